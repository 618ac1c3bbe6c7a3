"""goldstream pipelines: the streaming job, the daily report and the event generator."""
