"""The aws target: everything Lockstep knows about this platform lives in this folder."""
