"""`lockstep import`: inventory what the platforms run, find the overlap, adopt schedules as workflow files."""
