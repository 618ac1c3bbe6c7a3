"""Running goldstream on this machine: where set-up put the tools (`cache`), a live job in a
process of its own (`live_run`), finding every process of a job (`process_tree`), and the
background processes this clone owns (`process`: the broker, Flink)."""
