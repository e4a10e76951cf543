-- 009: an agent's time in a state is split over the hours it covers.
--
-- 007 put a whole stretch (ready from 08:05 to 11:50, say) into the hour it
-- began, so occupancy by hour leaned on the early hours. Each stretch now
-- gives every UTC hour it covers the part it spent there, in the journal
-- and in the recount alike; totals per day, month and agent are unchanged
-- except at the period's edges, which are now exact too.

CREATE OR REPLACE FUNCTION stats_agent_time_journal() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO stats_agent_time_delta
    SELECT p.centre, h.h, p.agent_id, p.state,
           sum((extract(epoch FROM least(n.at, h.h + interval '1 hour') - greatest(p.at, h.h))
                * 1000000)::bigint)
      FROM new_states n
      JOIN LATERAL (SELECT l.centre, l.agent_id, l.state, l.at FROM agent_state_log l
                     WHERE l.centre = n.centre AND l.agent_id = n.agent_id AND l.seq < n.seq
                     ORDER BY l.seq DESC LIMIT 1) p ON true
     CROSS JOIN LATERAL generate_series(date_trunc('hour', p.at, 'UTC'),
                                        n.at - interval '1 microsecond',
                                        interval '1 hour') AS h(h)
     WHERE p.state <> 'logged_out' AND n.at > p.at
     GROUP BY 1, 2, 3, 4;
    RETURN NULL;
END $$;

-- The pieces of every stretch that fall in [p_from, p_to), whole UTC hours.
CREATE OR REPLACE FUNCTION stats_agent_time_from_facts(p_from timestamptz, p_to timestamptz)
RETURNS SETOF stats_agent_time LANGUAGE sql STABLE AS $$
    SELECT l.centre, h.h, l.agent_id, l.state,
           sum((extract(epoch FROM least(n.at, h.h + interval '1 hour') - greatest(l.at, h.h))
                * 1000000)::bigint)
      FROM agent_state_log l
      JOIN LATERAL (SELECT x.at FROM agent_state_log x
                     WHERE x.centre = l.centre AND x.agent_id = l.agent_id AND x.seq > l.seq
                     ORDER BY x.seq LIMIT 1) n ON true
     CROSS JOIN LATERAL generate_series(date_trunc('hour', l.at, 'UTC'),
                                        n.at - interval '1 microsecond',
                                        interval '1 hour') AS h(h)
     WHERE l.at < p_to AND n.at > p_from AND n.at > l.at AND l.state <> 'logged_out'
       AND h.h >= p_from AND h.h < p_to
     GROUP BY 1, 2, 3, 4
$$;

-- Rows written before this migration, under the kept thresholds.
SELECT hotline_stats_rebuild(short_abandon_s, service_level_s) FROM stats_settings;
