"""`python -m dashboard`: serves the live page until interrupted."""

import sys

from dashboard.serve import main

if __name__ == '__main__':
    sys.exit(main())
