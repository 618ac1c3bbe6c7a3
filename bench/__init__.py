"""The benchmarks: `python -m bench.<name>` (docs/operations.md lists them).

Run as a command, a benchmark quiets the libraries' harmless warnings before its module
imports Beam, which logs "apitools not found" when first imported (docs/errors.md). The
package is imported before the module, while Python's `-m` still shows as `sys.argv[0]`;
imported any other way (by the tests), it leaves logging alone.
"""

import sys

if sys.argv[:1] == ['-m']:
    from pipelines.command_line import quiet_harmless_warnings

    quiet_harmless_warnings()
