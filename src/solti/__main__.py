"""``python -m solti`` is the ``solti`` command."""

from solti.cli import main

if __name__ == "__main__":  # pragma: no cover
    main()
