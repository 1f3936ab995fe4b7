#!/usr/bin/env python3
"""Moved to tools/reference/keras_bench.py; this stub forwards to it (README names the old path)."""
import os, sys
sys.exit(os.execv(sys.executable, [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference", "keras_bench.py")] + sys.argv[1:]))
