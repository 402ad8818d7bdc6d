"""One module per sub-command of `python -m rollout_bench`."""
