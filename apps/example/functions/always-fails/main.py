"""always-fails: fails on purpose, the way old stdio functions report errors."""
import json
import sys

request = json.load(sys.stdin)
print("about to fail on purpose", file=sys.stderr)
print(json.dumps({"success": False, "error": "this function always fails", "error_code": "ALWAYS_FAILS"}))
sys.exit(1)
