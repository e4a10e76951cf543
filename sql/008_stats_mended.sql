-- 008: the statistics, mended after their first use.
--
-- * Wrap-up time: 007 took it as the call's end to the agent's wrap-up post,
--   two clocks (the gateway's and the broker's), which a replay sets years
--   apart. calls.wrap_up_us is the agent's own time in wrap-up for the call,
--   from the state log, both ends on the broker's clock (router.c writes it
--   with the wrap-up); the statistics take it from there.
-- * The fold runs inside the broker's batches: it now runs in its own
--   subtransaction with a short lock timeout, so that it can only ever fail
--   itself (returning -1), never the batch.
-- * The rebuild gives way to writers instead of risking a deadlock with a
--   batch that holds a delta row: a short lock timeout, retried by
--   hotline-stats.

-- The agent's wrap-up time of a call, from the agent's own state log: the
-- time from entering wrap-up for the call to the next state (or to the
-- wrap-up being posted, if sooner). Both ends are the broker's clock; the
-- call's own times are the gateway's, which a replay sets in another year.
ALTER TABLE calls ADD COLUMN wrap_up_us bigint CHECK (wrap_up_us >= 0);

CREATE FUNCTION stats_call_facts(p_offered timestamptz, p_answered timestamptz,
                                 p_ended timestamptz, p_wrap_us bigint, p_outcome text,
                                 p_short integer, p_sl integer)
RETURNS TABLE (accepted integer, self_service integer, answered integer,
               answered_in_sl integer, abandoned integer, abandoned_in_sl integer,
               short_abandons integer, wait_us bigint, talk_us bigint, wrap_us bigint)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (p_outcome IN ('handled', 'self_service'))::integer,
           (p_outcome = 'self_service')::integer,
           ans::integer,
           (ans AND w <= p_sl * 1000000::bigint)::integer,
           (ab AND w >= p_short * 1000000::bigint)::integer,
           (ab AND w >= p_short * 1000000::bigint AND w <= p_sl * 1000000::bigint)::integer,
           (ab AND w < p_short * 1000000::bigint)::integer,
           CASE WHEN ans THEN w ELSE 0 END,
           CASE WHEN ans THEN (extract(epoch FROM p_ended - p_answered) * 1000000)::bigint
                ELSE 0 END,
           CASE WHEN ans THEN coalesce(p_wrap_us, 0) ELSE 0 END
      FROM (SELECT p_outcome = 'handled' AND p_answered IS NOT NULL AS ans,
                   p_outcome = 'abandoned' AS ab,
                   greatest((extract(epoch FROM coalesce(p_answered, p_ended) - p_offered)
                             * 1000000)::bigint, 0) AS w) x
     WHERE p_outcome IS NOT NULL
$$;

CREATE OR REPLACE FUNCTION stats_calls_journal() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    s stats_settings;
    sg integer := TG_ARGV[0]::integer;
BEGIN
    SELECT * INTO s FROM stats_settings;
    WITH f AS (
        SELECT c.centre, date_trunc('hour', c.offered_at, 'UTC') AS hour,
               coalesce(c.corrected_category, c.category) AS category, c.queue,
               coalesce(c.agent, '') AS agent, x.*
          FROM changed_calls c,
               LATERAL stats_call_facts(c.offered_at, c.answered_at, c.ended_at, c.wrap_up_us,
                                        c.outcome, s.short_abandon_s, s.service_level_s) x
    ), by_queue AS (
        INSERT INTO stats_calls_delta
        SELECT centre, hour, category, queue,
               sg * sum(accepted), sg * sum(self_service), sg * sum(answered),
               sg * sum(answered_in_sl), sg * sum(abandoned), sg * sum(abandoned_in_sl),
               sg * sum(short_abandons), sg * sum(wait_us), sg * sum(talk_us),
               sg * sum(wrap_us)
          FROM f GROUP BY 1, 2, 3, 4
    )
    INSERT INTO stats_agent_calls_delta
    SELECT centre, hour, agent,
           sg * sum(accepted), sg * sum(self_service), sg * sum(answered),
           sg * sum(answered_in_sl), sg * sum(abandoned), sg * sum(abandoned_in_sl),
           sg * sum(short_abandons), sg * sum(wait_us), sg * sum(talk_us), sg * sum(wrap_us)
      FROM f GROUP BY 1, 2, 3;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION stats_calls_from_facts(p_from timestamptz, p_to timestamptz,
                                       p_short integer, p_sl integer)
RETURNS SETOF stats_calls LANGUAGE sql STABLE AS $$
    SELECT c.centre, date_trunc('hour', c.offered_at, 'UTC'),
           coalesce(c.corrected_category, c.category), c.queue,
           sum(f.accepted), sum(f.self_service), sum(f.answered), sum(f.answered_in_sl),
           sum(f.abandoned), sum(f.abandoned_in_sl), sum(f.short_abandons),
           sum(f.wait_us), sum(f.talk_us), sum(f.wrap_us)
      FROM calls c,
           LATERAL stats_call_facts(c.offered_at, c.answered_at, c.ended_at, c.wrap_up_us,
                                    c.outcome, p_short, p_sl) f
     WHERE c.offered_at >= p_from AND c.offered_at < p_to
     GROUP BY 1, 2, 3, 4
$$;

CREATE OR REPLACE FUNCTION stats_agent_calls_from_facts(p_from timestamptz, p_to timestamptz,
                                             p_short integer, p_sl integer)
RETURNS SETOF stats_agent_calls LANGUAGE sql STABLE AS $$
    SELECT c.centre, date_trunc('hour', c.offered_at, 'UTC'), coalesce(c.agent, ''),
           sum(f.accepted), sum(f.self_service), sum(f.answered), sum(f.answered_in_sl),
           sum(f.abandoned), sum(f.abandoned_in_sl), sum(f.short_abandons),
           sum(f.wait_us), sum(f.talk_us), sum(f.wrap_us)
      FROM calls c,
           LATERAL stats_call_facts(c.offered_at, c.answered_at, c.ended_at, c.wrap_up_us,
                                    c.outcome, p_short, p_sl) f
     WHERE c.offered_at >= p_from AND c.offered_at < p_to
     GROUP BY 1, 2, 3
$$;

DROP FUNCTION stats_call_facts(timestamptz, timestamptz, timestamptz, timestamptz, text, integer,
                               integer);

CREATE OR REPLACE FUNCTION hotline_stats_fold() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
    total bigint := 0;
    old_timeout text := current_setting('lock_timeout');
BEGIN
    -- Never wait long for a row another fold or a rebuild holds: the fold
    -- runs inside the broker's batches, and the next fold tries again.
    PERFORM set_config('lock_timeout', '200ms', true);
    BEGIN
    WITH d AS (DELETE FROM stats_calls_delta RETURNING *)
    INSERT INTO stats_calls AS t
    SELECT centre, hour, category, queue, sum(accepted), sum(self_service), sum(answered),
           sum(answered_in_sl), sum(abandoned), sum(abandoned_in_sl), sum(short_abandons),
           sum(wait_us), sum(talk_us), sum(wrap_us)
      FROM d GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (centre, hour, category, queue) DO UPDATE
       SET accepted = t.accepted + EXCLUDED.accepted,
           self_service = t.self_service + EXCLUDED.self_service,
           answered = t.answered + EXCLUDED.answered,
           answered_in_sl = t.answered_in_sl + EXCLUDED.answered_in_sl,
           abandoned = t.abandoned + EXCLUDED.abandoned,
           abandoned_in_sl = t.abandoned_in_sl + EXCLUDED.abandoned_in_sl,
           short_abandons = t.short_abandons + EXCLUDED.short_abandons,
           wait_us = t.wait_us + EXCLUDED.wait_us,
           talk_us = t.talk_us + EXCLUDED.talk_us,
           wrap_us = t.wrap_us + EXCLUDED.wrap_us;
    GET DIAGNOSTICS n = ROW_COUNT;
    total := total + n;

    WITH d AS (DELETE FROM stats_agent_calls_delta RETURNING *)
    INSERT INTO stats_agent_calls AS t
    SELECT centre, hour, agent, sum(accepted), sum(self_service), sum(answered),
           sum(answered_in_sl), sum(abandoned), sum(abandoned_in_sl), sum(short_abandons),
           sum(wait_us), sum(talk_us), sum(wrap_us)
      FROM d GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (centre, hour, agent) DO UPDATE
       SET accepted = t.accepted + EXCLUDED.accepted,
           self_service = t.self_service + EXCLUDED.self_service,
           answered = t.answered + EXCLUDED.answered,
           answered_in_sl = t.answered_in_sl + EXCLUDED.answered_in_sl,
           abandoned = t.abandoned + EXCLUDED.abandoned,
           abandoned_in_sl = t.abandoned_in_sl + EXCLUDED.abandoned_in_sl,
           short_abandons = t.short_abandons + EXCLUDED.short_abandons,
           wait_us = t.wait_us + EXCLUDED.wait_us,
           talk_us = t.talk_us + EXCLUDED.talk_us,
           wrap_us = t.wrap_us + EXCLUDED.wrap_us;
    GET DIAGNOSTICS n = ROW_COUNT;
    total := total + n;

    WITH d AS (DELETE FROM stats_bookings_delta RETURNING *)
    INSERT INTO stats_bookings AS t
    SELECT centre, hour, hospital, channel, platform, sum(bookings)
      FROM d GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (centre, hour, hospital, channel, platform) DO UPDATE
       SET bookings = t.bookings + EXCLUDED.bookings;
    GET DIAGNOSTICS n = ROW_COUNT;
    total := total + n;

    WITH d AS (DELETE FROM stats_agent_time_delta RETURNING *)
    INSERT INTO stats_agent_time AS t
    SELECT centre, hour, agent, state, sum(time_us)
      FROM d GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
    ON CONFLICT (centre, hour, agent, state) DO UPDATE
       SET time_us = t.time_us + EXCLUDED.time_us;
    GET DIAGNOSTICS n = ROW_COUNT;
    total := total + n;
    EXCEPTION WHEN OTHERS THEN
        -- Its own subtransaction: a failed fold takes back only itself,
        -- never the calls of the batch it rides in.
        PERFORM set_config('lock_timeout', old_timeout, true);
        RETURN -1;
    END;
    PERFORM set_config('lock_timeout', old_timeout, true);
    RETURN total;
END $$;

CREATE OR REPLACE FUNCTION hotline_stats_rebuild(p_short integer, p_sl integer) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    -- The rebuild is the one to give way: waiting behind a broker's batch
    -- that waits behind these locks would be a deadlock, so it fails fast
    -- (SQLSTATE 55P03) and hotline-stats rebuild tries again.
    PERFORM set_config('lock_timeout', '500ms', true);
    LOCK TABLE calls, bookings, agent_state_log IN SHARE MODE;
    UPDATE stats_settings SET short_abandon_s = p_short, service_level_s = p_sl;
    DELETE FROM stats_calls_delta;
    DELETE FROM stats_agent_calls_delta;
    DELETE FROM stats_agent_calls;
    DELETE FROM stats_bookings_delta;
    DELETE FROM stats_agent_time_delta;
    DELETE FROM stats_calls;
    DELETE FROM stats_bookings;
    DELETE FROM stats_agent_time;
    INSERT INTO stats_calls
    SELECT * FROM stats_calls_from_facts('-infinity', 'infinity', p_short, p_sl);
    INSERT INTO stats_agent_calls
    SELECT * FROM stats_agent_calls_from_facts('-infinity', 'infinity', p_short, p_sl);
    INSERT INTO stats_bookings SELECT * FROM stats_bookings_from_facts('-infinity', 'infinity');
    INSERT INTO stats_agent_time
    SELECT * FROM stats_agent_time_from_facts('-infinity', 'infinity');
END $$;

-- Rows written before this migration, under the kept thresholds.
SELECT hotline_stats_rebuild(short_abandon_s, service_level_s) FROM stats_settings;
