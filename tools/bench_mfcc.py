#!/usr/bin/env python3
"""Moved to tools/reference/bench_mfcc.py; this stub forwards to it (README names the old path)."""
import os, sys
sys.exit(os.execv(sys.executable, [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference", "bench_mfcc.py")] + sys.argv[1:]))
