"""word-count: counts words and the most common ones (Python, stdio protocol)."""
import json
import re
import sys
from collections import Counter

request = json.load(sys.stdin)
text = (request.get("input") or {}).get("text", "")
words = re.findall(r"\w+", text.lower())
print(f"counting {len(words)} words", file=sys.stderr)
json.dump(
    {
        "request_id": request.get("request_id"),
        "success": True,
        "output": {"words": len(words), "top": Counter(words).most_common(3)},
    },
    sys.stdout,
)
