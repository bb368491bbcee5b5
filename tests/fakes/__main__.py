"""``python -m tests.fakes``: the compose test stack's fakes (see `balto.fakes.__main__`)."""

from balto.fakes.__main__ import main

if __name__ == "__main__":
    main()
