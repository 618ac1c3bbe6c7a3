"""`python -m pipelines.streaming`: the streaming pipeline (pipeline.py), from the command line."""

import sys

from pipelines.command_line import quiet_harmless_warnings

if __name__ == '__main__':
    quiet_harmless_warnings()  # before Beam is imported: it logs "apitools not found"
    from pipelines.streaming.pipeline import main  # pylint: disable=import-outside-toplevel

    sys.exit(main(sys.argv[1:]))
