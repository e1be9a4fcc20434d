"""Several instances on one shared database: one scheduler at a time, the rest in step.

`store` holds the lease and the change counters (tables both engines keep); `coordination`
runs them in a bot: the scheduler's lease, taken over when its holder dies, and the changes
one instance makes to what every instance keeps in memory (the lectures, the links).
On SQLite there is one instance: it is the scheduler, and nothing is polled.
"""
