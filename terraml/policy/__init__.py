"""terraml's policy: which machine a pool or job runs on, which node groups a pool becomes, and the
spot decision for jobs. Pure functions: spec values and catalog rows in, typed plans out."""
