"""Command line: ``python -m ketastats.datasets.simulate NAME OUT_DIR``.

Writes the synthetic data set NAME as CSV files into OUT_DIR.
"""

from __future__ import annotations

import argparse
import pathlib

from . import SIMULATORS, write_dataset


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m ketastats.datasets.simulate",
        description="Write a synthetic ketastats data set as CSV files.",
    )
    parser.add_argument("name", choices=sorted(SIMULATORS))
    parser.add_argument("out_dir", type=pathlib.Path)
    args = parser.parse_args(argv)
    for path in write_dataset(args.name, args.out_dir):
        print(path)


if __name__ == "__main__":
    main()
