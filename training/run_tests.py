"""The training side's tests for `npm test` (scripts/test.js, suite "python"): every training/test_*.py,
with the counts written as JSON to AL_RESULT_FILE for the suite table.

    AL_RESULT_FILE=out.json /usr/bin/python3 training/run_tests.py
"""
import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

result = unittest.TextTestRunner(verbosity=1).run(unittest.defaultTestLoader.discover(HERE, pattern="test_*.py"))
failed = len(result.failures) + len(result.errors)
skipped = len(result.skipped)
with open(os.environ["AL_RESULT_FILE"], "w") as f:
    json.dump({"passed": result.testsRun - failed - skipped, "failed": failed, "skipped": skipped}, f)
sys.exit(0 if result.wasSuccessful() else 1)
