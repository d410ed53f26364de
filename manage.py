#!/usr/bin/env python
from wuji.cli import main

if __name__ == "__main__":
    main()
