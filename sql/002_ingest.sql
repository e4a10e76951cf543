-- 002: hotline_ingest, the broker's group commit in one statement.
--
-- The broker sends each batch of accepted events as one JSON array inside one
-- transaction. Events were already checked against the broker's in-memory
-- state, so normally every row is simply written. The function still guards
-- the database against a broker whose memory is stale (an event id or call id
-- the broker had forgotten): such rows are not written and come back as
-- findings; the broker answers them from the stored facts and then reloads
-- its state. Lookups ('l' rows) write nothing: they answer retries of events
-- for calls the broker no longer holds in memory.
--
-- Row fields: n (index in the batch), k ('w' write, 'l' lookup), c centre,
-- e event id, i call id, t type, at (usec since epoch), h payload hash (hex),
-- d detail, r result (the answer, kept as sent), and for offers and final events the call's columns:
-- st state, cat category, q queue, pr priority, ru rule, ch caller hash (hex),
-- cm caller masked, di dialled, iv ivr path, ag agent, aa answered at, ea ended at,
-- oc outcome.
--
-- Findings: duplicate (event id exists: stored hash and result returned),
-- call_exists (offer for an existing call id), voided (an event of a call
-- whose offer in this batch was refused), call_state (lookup: the call exists,
-- its state returned), unknown_call (lookup: no such call).

CREATE FUNCTION hotline_usec(bigint) RETURNS timestamptz
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT timestamptz 'epoch' + $1 * interval '1 microsecond' $$;

CREATE FUNCTION hotline_ingest(ops jsonb)
RETURNS TABLE (idx integer, finding text, stored_hash bytea, stored_result text, call_state text)
LANGUAGE plpgsql AS $$
DECLARE
    o record;
    voided text[] := '{}';
BEGIN
    FOR o IN SELECT * FROM jsonb_to_recordset(ops) AS x(
            n integer, k text, c text, e text, i text, t text, at bigint, h text, d jsonb, r text,
            st text, cat text, q text, pr integer, ru text, ch text, cm text, di text, iv text,
            ag text, aa bigint, ea bigint, oc text)
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
        END IF;

        INSERT INTO call_events (centre, event_id, call_id, type, at, payload_sha256, detail, result)
        VALUES (o.c, o.e, o.i, o.t, hotline_usec(o.at), decode(o.h, 'hex'), o.d, o.r)
        ON CONFLICT DO NOTHING;
        IF NOT FOUND THEN
            IF o.t = 'call.offered' THEN
                -- The call row above is new and has no event: take it back.
                DELETE FROM calls WHERE centre = o.c AND call_id = o.i;
                voided := voided || (o.c || '/' || o.i);
            END IF;
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
