"""The offline engine: run the real program under Pulumi's mocks, run the real policy pack, report."""
