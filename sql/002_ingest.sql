-- 002: hotline_ingest, the broker's group commit in one statement.
--
-- The broker sends each batch of accepted events as one array per column
-- (parsed once, straight into typed rows) inside one
-- transaction. Events were already checked against the broker's in-memory
-- state, so normally every row is simply written. The function still guards
-- the database against a broker whose memory is stale (an event id or call id
-- the broker had forgotten): such rows are not written and come back as
-- findings; the broker answers them from the stored facts and then reloads
-- its state. Lookups ('l' rows) write nothing: they answer retries of events
-- for calls the broker no longer holds in memory.
--
-- Columns: n (index in the batch, from the arrays' order), k ('w' write, 'l' lookup), c centre,
-- e event id, i call id, t type, at (usec since epoch), h payload hash (hex),
-- d detail, r result (the answer, kept as sent), and for offers and final events the call's columns:
-- st state, cat category, q queue, pr priority, ru rule, ch caller hash (hex),
-- cm caller masked, di dialled, iv ivr path, ag agent, aa answered at, ea ended at,
-- oc outcome.
--
-- The fast path writes the whole batch with three set-based statements. If
-- any row conflicts (a stale memory in the broker), that attempt is rolled
-- back to its savepoint and the batch is taken again row by row, which finds
-- and reports each conflict.
--
-- Findings: duplicate (event id exists: stored hash and result returned),
-- call_exists (offer for an existing call id), voided (an event of a call
-- whose offer in this batch was refused), call_state (lookup: the call exists,
-- its state returned), unknown_call (lookup: no such call).

-- Microseconds since the epoch as timestamptz, exactly. Declared STABLE and
-- not STRICT, like its body, so that the planner inlines it.
CREATE FUNCTION hotline_usec(bigint) RETURNS timestamptz
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT timestamptz 'epoch' + $1 * interval '1 microsecond' $$;

CREATE FUNCTION hotline_ingest(
    p_k text[], p_c text[], p_e text[], p_i text[], p_t text[], p_at bigint[], p_h text[],
    p_d jsonb[], p_r text[], p_st text[], p_cat text[], p_q text[], p_pr integer[], p_ru text[],
    p_ch text[], p_cm text[], p_di text[], p_iv text[], p_ag text[], p_aa bigint[],
    p_ea bigint[], p_oc text[],
    p_offers integer, p_writes integer, p_finals integer, p_lookups integer)
RETURNS TABLE (idx integer, finding text, stored_hash bytea, stored_result text, call_state text)
LANGUAGE plpgsql
-- The statements below read arrays whose contents say nothing useful to the
-- planner; planning them again for every batch cost more than running them.
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    o record;
    voided text[] := '{}';
    careful boolean := false;
    got bigint;
BEGIN
    -- Fast path: every write lands as the broker expects. The counts come
    -- from the broker; a mismatch means a conflict, and the block's
    -- savepoint takes all of it back.
    IF p_writes > 0 THEN
    BEGIN
        INSERT INTO calls (centre, call_id, state, category, queue, priority, rule, caller_hash,
                           caller_masked, dialled, ivr_path, agent, offered_at)
        SELECT x.c, x.i, x.st, x.cat, x.q, x.pr, x.ru, decode(x.ch, 'hex'), x.cm, x.di, x.iv,
               NULLIF(x.ag, ''), hotline_usec(x.at)
          FROM unnest(p_k, p_c, p_i, p_t, p_at, p_st, p_cat, p_q, p_pr, p_ru, p_ch, p_cm, p_di,
                      p_iv, p_ag)
               AS x(k, c, i, t, at, st, cat, q, pr, ru, ch, cm, di, iv, ag)
         WHERE x.k = 'w' AND x.t = 'call.offered'
        ON CONFLICT DO NOTHING;
        GET DIAGNOSTICS got = ROW_COUNT;
        IF got <> p_offers THEN
            RAISE EXCEPTION USING ERRCODE = 'HL001', MESSAGE = 'offer conflict';
        END IF;

        -- In batch order, so that seq orders a call's events.
        INSERT INTO call_events (centre, event_id, call_id, type, at, payload_sha256, detail, result)
        SELECT x.c, x.e, x.i, x.t, hotline_usec(x.at), decode(x.h, 'hex'), x.d, x.r
          FROM unnest(p_k, p_c, p_e, p_i, p_t, p_at, p_h, p_d, p_r) WITH ORDINALITY
               AS x(k, c, e, i, t, at, h, d, r, ord)
         WHERE x.k = 'w'
         ORDER BY x.ord
        ON CONFLICT DO NOTHING;
        GET DIAGNOSTICS got = ROW_COUNT;
        IF got <> p_writes THEN
            RAISE EXCEPTION USING ERRCODE = 'HL001', MESSAGE = 'event conflict';
        END IF;

        IF p_finals > 0 THEN
            UPDATE calls ca
               SET state = x.st, category = x.cat, queue = x.q, agent = NULLIF(x.ag, ''),
                   ivr_path = x.iv, answered_at = hotline_usec(NULLIF(x.aa, 0)),
                   ended_at = hotline_usec(x.ea), outcome = x.oc
              FROM unnest(p_k, p_c, p_i, p_st, p_cat, p_q, p_ag, p_iv, p_aa, p_ea, p_oc)
                   AS x(k, c, i, st, cat, q, ag, iv, aa, ea, oc)
             WHERE x.k = 'w' AND x.st IN ('ended', 'abandoned')
               AND ca.centre = x.c AND ca.call_id = x.i;
            GET DIAGNOSTICS got = ROW_COUNT;
            IF got <> p_finals THEN
                RAISE EXCEPTION USING ERRCODE = 'HL001', MESSAGE = 'final event without its call';
            END IF;
        END IF;
    EXCEPTION
        WHEN SQLSTATE 'HL001' OR foreign_key_violation THEN
            careful := true;
    END;
    END IF;

    IF NOT careful AND p_lookups = 0 THEN
        RETURN;
    END IF;

    -- The careful path: row by row, each conflict found and reported.
    FOR o IN SELECT (x.ord - 1)::integer AS n, x.*
               FROM unnest(p_k, p_c, p_e, p_i, p_t, p_at, p_h, p_d, p_r, p_st, p_cat, p_q, p_pr,
                           p_ru, p_ch, p_cm, p_di, p_iv, p_ag, p_aa, p_ea, p_oc) WITH ORDINALITY
                    AS x(k, c, e, i, t, at, h, d, r, st, cat, q, pr, ru, ch, cm, di, iv, ag, aa,
                         ea, oc, ord)
              WHERE careful OR x.k = 'l'
              ORDER BY x.ord
    LOOP
        idx := o.n;
        finding := NULL; stored_hash := NULL; stored_result := NULL; call_state := NULL;

        IF o.k = 'l' THEN
            SELECT ce.payload_sha256, ce.result INTO stored_hash, stored_result
              FROM call_events ce WHERE ce.centre = o.c AND ce.event_id = o.e;
            IF FOUND THEN
                finding := 'duplicate';
            ELSE
                SELECT ca.state INTO call_state FROM calls ca WHERE ca.centre = o.c AND ca.call_id = o.i;
                finding := CASE WHEN FOUND THEN 'call_state' ELSE 'unknown_call' END;
            END IF;
            RETURN NEXT;
            CONTINUE;
        END IF;

        IF (o.c || '/' || o.i) = ANY (voided) THEN
            finding := 'voided';
            RETURN NEXT;
            CONTINUE;
        END IF;

        IF o.t = 'call.offered' THEN
            INSERT INTO calls (centre, call_id, state, category, queue, priority, rule, caller_hash,
                               caller_masked, dialled, ivr_path, agent, offered_at)
            VALUES (o.c, o.i, o.st, o.cat, o.q, o.pr, o.ru, decode(o.ch, 'hex'), o.cm, o.di, o.iv,
                    NULLIF(o.ag, ''), hotline_usec(o.at))
            ON CONFLICT DO NOTHING;
            IF NOT FOUND THEN
                voided := voided || (o.c || '/' || o.i);
                SELECT ce.payload_sha256, ce.result INTO stored_hash, stored_result
                  FROM call_events ce WHERE ce.centre = o.c AND ce.event_id = o.e;
                finding := CASE WHEN FOUND THEN 'duplicate' ELSE 'call_exists' END;
                RETURN NEXT;
                CONTINUE;
            END IF;
        ELSE
            -- Only a call still in progress takes more events.
            SELECT ca.state INTO call_state FROM calls ca
             WHERE ca.centre = o.c AND ca.call_id = o.i;
            IF NOT FOUND OR call_state IN ('ended', 'abandoned') THEN
                voided := voided || (o.c || '/' || o.i);
                finding := CASE WHEN FOUND THEN 'call_state' ELSE 'voided' END;
                RETURN NEXT;
                CONTINUE;
            END IF;
            call_state := NULL;
        END IF;

        INSERT INTO call_events (centre, event_id, call_id, type, at, payload_sha256, detail, result)
        VALUES (o.c, o.e, o.i, o.t, hotline_usec(o.at), decode(o.h, 'hex'), o.d, o.r)
        ON CONFLICT DO NOTHING;
        IF NOT FOUND THEN
            IF o.t = 'call.offered' THEN
                -- The call row above is new and has no event: take it back.
                DELETE FROM calls WHERE centre = o.c AND call_id = o.i;
            END IF;
            -- The broker checked the call's later events against this one:
            -- none of them may land either.
            voided := voided || (o.c || '/' || o.i);
            SELECT ce.payload_sha256, ce.result INTO stored_hash, stored_result
              FROM call_events ce WHERE ce.centre = o.c AND ce.event_id = o.e;
            finding := 'duplicate';
            RETURN NEXT;
            CONTINUE;
        END IF;

        IF o.st IN ('ended', 'abandoned') THEN
            UPDATE calls SET state = o.st, category = o.cat, queue = o.q, agent = NULLIF(o.ag, ''),
                             ivr_path = o.iv, answered_at = hotline_usec(NULLIF(o.aa, 0)),
                             ended_at = hotline_usec(o.ea), outcome = o.oc
             WHERE centre = o.c AND call_id = o.i;
        END IF;
    END LOOP;
END $$;
