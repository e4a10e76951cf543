/* agentpool.h: the names of a pool of agents provisioned together
 * (`hotline-admin agent pool`) and played together (`hotline-sim replay
 * --agents N`): the prefix, then the agent's number 1..count zero-padded to
 * three digits, or to as many digits as count has when it has more
 * ("sim-001" .. "sim-008"; "sim-0001" .. "sim-1000"). Both programs name
 * the agents here, so that the simulator logs in exactly what was created.
 * Pure. */
#ifndef HOTLINE_AGENTPOOL_H
#define HOTLINE_AGENTPOOL_H

#include <stddef.h>

/* The most agents one pool may have: five digits. */
#define AGENTPOOL_MAX 99999

/* Writes the id of agent number (1..count) of a pool of count agents into
 * out. Returns 0, -EINVAL when number or count is out of range, or
 * -ENAMETOOLONG when the id does not fit in out_len bytes. The id's
 * alphabet is the caller's to check (the prefix is copied as it is). */
int agentpool_id(const char *prefix, unsigned number, unsigned count, char *out, size_t out_len)
	__attribute__((warn_unused_result));

#endif
