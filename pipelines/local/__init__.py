"""Running goldstream on this machine: where set-up put the tools (`cache`), a live job in a
process of its own (`live_run`), and finding every process of a job (`process_tree`)."""
