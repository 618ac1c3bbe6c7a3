"""Fault injection on a live job (`run`), kill/restart cycles (`cycles`) and counting what was
delivered, lost or repeated (`tally`)."""
