"""Lockstep's CrossGuard policy pack: one rule per module under rules/, listed in pack.py."""
