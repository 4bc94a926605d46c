"""Delivery: emailing finished packets to each school's reviewers (`packets send`).

settings.py reads inputs/email.toml; recipients.py picks a school's reviewers from its own roster
rows; compose.py renders the message and its attachments; ledger.py records what was delivered;
transport.py writes the outbox or talks SMTP; send.py puts them together.
"""
