"""``bitfab sweep``: many builds of one model (boards x clocks x folding targets), each with
rtlsim and synthesis when asked, run as Ray tasks on this machine or on a cluster.

Roles: :mod:`grid` (what the points are), :mod:`auto` (``--auto``'s folding targets),
:mod:`cluster` (connecting to Ray), :mod:`pack` (a build directory through the object
store), :mod:`point` (one point, run inside a task), :mod:`run` (scheduling, sweep.json,
interruption), :mod:`pareto` and :mod:`page` (sweep.html).
"""
