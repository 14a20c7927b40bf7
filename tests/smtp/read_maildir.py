"""Prints the messages of a Maildir as JSON, oldest first: headers, the
content types of the parts, and the decoded text and HTML parts."""

import email
import email.policy
import json
import os
import sys

d = sys.argv[1]
out = []
for sub in ("new", "cur"):
    p = os.path.join(d, sub)
    if not os.path.isdir(p):
        continue
    for name in os.listdir(p):
        f = os.path.join(p, name)
        with open(f, "rb") as fh:
            m = email.message_from_binary_file(fh, policy=email.policy.default)
        text = m.get_body(("plain",))
        html = m.get_body(("html",))
        out.append({
            "mtime": os.stat(f).st_mtime,
            "subject": str(m["subject"] or ""),
            "from": str(m["from"] or ""),
            "to": str(m["to"] or ""),
            "message_id": str(m["message-id"] or ""),
            "in_reply_to": str(m["in-reply-to"] or ""),
            "references": str(m["references"] or ""),
            "content_type": m.get_content_type(),
            "parts": [part.get_content_type() for part in m.walk()],
            "text": text.get_content() if text is not None else "",
            "html": html.get_content() if html is not None else "",
        })
out.sort(key=lambda m: m["mtime"])
json.dump(out, sys.stdout)
