"""Test-only layer kinds: each is a package plus one registry row, registered by the tests
that use them (and removed again), which shows a kind needs no edit anywhere else."""
