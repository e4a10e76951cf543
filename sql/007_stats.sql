-- 007: statistics kept up to date in the transactions that write the facts.
--
-- The year report must not scan a year of calls and bookings (2 M calls and
-- 4 M bookings at Nanjing's scale), so the facts' counts are kept per UTC
-- hour in small tables:
--   stats_calls       per (centre, hour, category, queue): the calls that
--                     ended, with the sums the service KPIs need;
--   stats_agent_calls the same sums per (centre, hour, agent who answered),
--                     apart, so that the tables every report reads stay
--                     small (a row per agent and hour would multiply them);
--   stats_bookings    per (centre, hour, hospital, channel, platform);
--   stats_agent_time  per (centre, hour, agent, state): seconds spent in
--                     each state, attributed to the hour the state began
--                     (009 splits it over the hours it covers).
-- Hours are UTC, so that an export in any time zone whose offset is whole
-- hours (Asia/Shanghai, UTC...) reads local days, months and hours from them;
-- hotline-stats refuses any other zone with a message saying why.
--
-- How they stay exact without slowing or serialising the writers: statement
-- triggers (transition tables, so one trigger run per batch of the broker's
-- group commit, or per COPY) append the batch's grouped changes to a
-- *_delta table. Appending takes no lock on shared rows, so concurrent
-- writers never wait for each other or deadlock. hotline_stats_fold()
-- moves the deltas into the main tables (the broker calls it every few
-- seconds); readers always add both, so a figure is exact at any moment,
-- folded or not. hotline-stats year --recompute counts the same figures
-- from the raw rows in the same snapshot and must find them equal.
--
-- The KPI thresholds the calls were sorted by (short abandons, service
-- level) are in stats_settings; hotline-stats rebuild changes them and
-- rebuilds the tables from the raw rows.

CREATE TABLE stats_settings (
    only_row         boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    short_abandon_s  integer NOT NULL DEFAULT 5 CHECK (short_abandon_s BETWEEN 0 AND 3600),
    service_level_s  integer NOT NULL DEFAULT 20 CHECK (service_level_s BETWEEN 0 AND 3600)
);
INSERT INTO stats_settings DEFAULT VALUES;

-- A call's contribution once it has ended (no row while it is in progress).
-- wait: from the offer to the answer (answered) or to the hang-up
-- (abandoned); talk: answer to end; wrap-up: end to the agent's wrap-up
-- (0 when none was posted). Microseconds, exact.
CREATE FUNCTION stats_call_facts(p_offered timestamptz, p_answered timestamptz,
                                 p_ended timestamptz, p_wrapped timestamptz, p_outcome text,
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
           CASE WHEN ans AND p_wrapped >= p_ended
                THEN (extract(epoch FROM p_wrapped - p_ended) * 1000000)::bigint ELSE 0 END
      FROM (SELECT p_outcome = 'handled' AND p_answered IS NOT NULL AS ans,
                   p_outcome = 'abandoned' AS ab,
                   greatest((extract(epoch FROM coalesce(p_answered, p_ended) - p_offered)
                             * 1000000)::bigint, 0) AS w) x
     WHERE p_outcome IS NOT NULL
$$;

CREATE TABLE stats_calls (
    centre           text NOT NULL,
    hour             timestamptz NOT NULL,
    category         text NOT NULL,
    queue            text NOT NULL,
    accepted         bigint NOT NULL,
    self_service     bigint NOT NULL,
    answered         bigint NOT NULL,
    answered_in_sl   bigint NOT NULL,
    abandoned        bigint NOT NULL,
    abandoned_in_sl  bigint NOT NULL,
    short_abandons   bigint NOT NULL,
    wait_us          bigint NOT NULL,
    talk_us          bigint NOT NULL,
    wrap_us          bigint NOT NULL,
    PRIMARY KEY (centre, hour, category, queue)
);
CREATE TABLE stats_calls_delta (LIKE stats_calls);

CREATE TABLE stats_agent_calls (
    centre           text NOT NULL,
    hour             timestamptz NOT NULL,
    agent            text NOT NULL,
    accepted         bigint NOT NULL,
    self_service     bigint NOT NULL,
    answered         bigint NOT NULL,
    answered_in_sl   bigint NOT NULL,
    abandoned        bigint NOT NULL,
    abandoned_in_sl  bigint NOT NULL,
    short_abandons   bigint NOT NULL,
    wait_us          bigint NOT NULL,
    talk_us          bigint NOT NULL,
    wrap_us          bigint NOT NULL,
    PRIMARY KEY (centre, hour, agent)
);
CREATE TABLE stats_agent_calls_delta (LIKE stats_agent_calls);

CREATE TABLE stats_bookings (
    centre    text NOT NULL,
    hour      timestamptz NOT NULL,
    hospital  text NOT NULL,
    channel   text NOT NULL,
    platform  text NOT NULL, -- '' for none
    bookings  bigint NOT NULL,
    PRIMARY KEY (centre, hour, hospital, channel, platform)
);
CREATE TABLE stats_bookings_delta (LIKE stats_bookings);

CREATE TABLE stats_agent_time (
    centre   text NOT NULL,
    hour     timestamptz NOT NULL,
    agent    text NOT NULL,
    state    text NOT NULL,
    time_us  bigint NOT NULL,
    PRIMARY KEY (centre, hour, agent, state)
);
CREATE TABLE stats_agent_time_delta (LIKE stats_agent_time);

-- calls: the rows a statement changed, signed: +1 for rows as they are now
-- (inserted, or updated: a call that ends, a category corrected at
-- wrap-up), -1 for rows as they were (updated or deleted). An UPDATE fires
-- two triggers, one per side, so that one function with one statement
-- serves every case; the fold nets the two sides. One pass over the rows
-- feeds both delta tables.
CREATE FUNCTION stats_calls_journal() RETURNS trigger LANGUAGE plpgsql AS $$
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
               LATERAL stats_call_facts(c.offered_at, c.answered_at, c.ended_at, c.wrapped_at,
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

CREATE TRIGGER stats_calls_insert AFTER INSERT ON calls
    REFERENCING NEW TABLE AS changed_calls
    FOR EACH STATEMENT EXECUTE FUNCTION stats_calls_journal('1');
CREATE TRIGGER stats_calls_update_new AFTER UPDATE ON calls
    REFERENCING NEW TABLE AS changed_calls
    FOR EACH STATEMENT EXECUTE FUNCTION stats_calls_journal('1');
CREATE TRIGGER stats_calls_update_old AFTER UPDATE ON calls
    REFERENCING OLD TABLE AS changed_calls
    FOR EACH STATEMENT EXECUTE FUNCTION stats_calls_journal('-1');
CREATE TRIGGER stats_calls_delete AFTER DELETE ON calls
    REFERENCING OLD TABLE AS changed_calls
    FOR EACH STATEMENT EXECUTE FUNCTION stats_calls_journal('-1');

CREATE FUNCTION stats_bookings_journal() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO stats_bookings_delta
    SELECT n.centre, date_trunc('hour', n.booked_at, 'UTC'), n.hospital, n.channel,
           coalesce(n.platform, ''), count(*)
      FROM new_bookings n
     GROUP BY 1, 2, 3, 4, 5;
    RETURN NULL;
END $$;
CREATE TRIGGER stats_bookings_insert AFTER INSERT ON bookings
    REFERENCING NEW TABLE AS new_bookings
    FOR EACH STATEMENT EXECUTE FUNCTION stats_bookings_journal();

-- An agent's new state ends the one before: its time goes to the hour it
-- began. The previous row is the agent's row with the largest seq below
-- the new one (it may be in the same statement).
CREATE FUNCTION stats_agent_time_journal() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO stats_agent_time_delta
    SELECT p.centre, date_trunc('hour', p.at, 'UTC'), p.agent_id, p.state,
           sum(greatest((extract(epoch FROM n.at - p.at) * 1000000)::bigint, 0))
      FROM new_states n
      JOIN LATERAL (SELECT l.centre, l.agent_id, l.state, l.at FROM agent_state_log l
                     WHERE l.centre = n.centre AND l.agent_id = n.agent_id AND l.seq < n.seq
                     ORDER BY l.seq DESC LIMIT 1) p ON true
     WHERE p.state <> 'logged_out'
     GROUP BY 1, 2, 3, 4;
    RETURN NULL;
END $$;
CREATE TRIGGER stats_agent_time_insert AFTER INSERT ON agent_state_log
    REFERENCING NEW TABLE AS new_states
    FOR EACH STATEMENT EXECUTE FUNCTION stats_agent_time_journal();

-- Moves every committed delta into the main tables, in key order (two
-- folds at once wait for each other, never deadlock). Returns the number
-- of delta rows folded.
CREATE FUNCTION hotline_stats_fold() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
    total bigint := 0;
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
    RETURN total;
END $$;

-- The raw rows' figures, grouped like the tables: what the tables must
-- equal (hotline-stats --recompute) and what a rebuild writes.
CREATE FUNCTION stats_calls_from_facts(p_from timestamptz, p_to timestamptz,
                                       p_short integer, p_sl integer)
RETURNS SETOF stats_calls LANGUAGE sql STABLE AS $$
    SELECT c.centre, date_trunc('hour', c.offered_at, 'UTC'),
           coalesce(c.corrected_category, c.category), c.queue,
           sum(f.accepted), sum(f.self_service), sum(f.answered), sum(f.answered_in_sl),
           sum(f.abandoned), sum(f.abandoned_in_sl), sum(f.short_abandons),
           sum(f.wait_us), sum(f.talk_us), sum(f.wrap_us)
      FROM calls c,
           LATERAL stats_call_facts(c.offered_at, c.answered_at, c.ended_at, c.wrapped_at,
                                    c.outcome, p_short, p_sl) f
     WHERE c.offered_at >= p_from AND c.offered_at < p_to
     GROUP BY 1, 2, 3, 4
$$;

CREATE FUNCTION stats_agent_calls_from_facts(p_from timestamptz, p_to timestamptz,
                                             p_short integer, p_sl integer)
RETURNS SETOF stats_agent_calls LANGUAGE sql STABLE AS $$
    SELECT c.centre, date_trunc('hour', c.offered_at, 'UTC'), coalesce(c.agent, ''),
           sum(f.accepted), sum(f.self_service), sum(f.answered), sum(f.answered_in_sl),
           sum(f.abandoned), sum(f.abandoned_in_sl), sum(f.short_abandons),
           sum(f.wait_us), sum(f.talk_us), sum(f.wrap_us)
      FROM calls c,
           LATERAL stats_call_facts(c.offered_at, c.answered_at, c.ended_at, c.wrapped_at,
                                    c.outcome, p_short, p_sl) f
     WHERE c.offered_at >= p_from AND c.offered_at < p_to
     GROUP BY 1, 2, 3
$$;

CREATE FUNCTION stats_bookings_from_facts(p_from timestamptz, p_to timestamptz)
RETURNS SETOF stats_bookings LANGUAGE sql STABLE AS $$
    SELECT b.centre, date_trunc('hour', b.booked_at, 'UTC'), b.hospital, b.channel,
           coalesce(b.platform, ''), count(*)
      FROM bookings b
     WHERE b.booked_at >= p_from AND b.booked_at < p_to
     GROUP BY 1, 2, 3, 4, 5
$$;

CREATE FUNCTION stats_agent_time_from_facts(p_from timestamptz, p_to timestamptz)
RETURNS SETOF stats_agent_time LANGUAGE sql STABLE AS $$
    SELECT l.centre, date_trunc('hour', l.at, 'UTC'), l.agent_id, l.state,
           sum(greatest((extract(epoch FROM n.at - l.at) * 1000000)::bigint, 0))
      FROM agent_state_log l
      JOIN LATERAL (SELECT x.at FROM agent_state_log x
                     WHERE x.centre = l.centre AND x.agent_id = l.agent_id AND x.seq > l.seq
                     ORDER BY x.seq LIMIT 1) n ON true
     WHERE l.at >= p_from AND l.at < p_to AND l.state <> 'logged_out'
     GROUP BY 1, 2, 3, 4
$$;

-- Rebuilds every table from the raw rows under new thresholds. Writers
-- wait (SHARE locks on the fact tables) so that nothing slips between the
-- count and the swap.
CREATE FUNCTION hotline_stats_rebuild(p_short integer, p_sl integer) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
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

-- Rows written before this migration.
SELECT hotline_stats_rebuild(5, 20);
