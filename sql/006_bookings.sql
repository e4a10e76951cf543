-- 006: hospitals with their departments, booking platforms, and bookings.
--
-- Hospitals, departments and platforms are reference data of a centre,
-- loaded from a YAML file by `hotline-admin hospitals load` (doc/bookings.md).
-- A booking names them by code; the foreign keys refuse anything else.
--
-- A booking is one appointment made through one channel:
--   online_12320  the centre's own online booking (app, WeChat, web site...);
--   phone         made by a 12320 agent or the IVR during a call: call_id says which;
--   clinic        booked in the consulting room for the next visit;
--   third_party   booked through another company's platform.
-- platform says through which platform an online_12320 or third_party
-- booking came, when the sending system knows it.
--
-- Bookings come from the broker's API (one at a time, source 'agent' or
-- 'gateway') and from other systems' daily batches (hotline-admin bookings
-- import, COPY, source = the system's name, never 'agent' or 'gateway').
-- Each is unique by (centre, source, booking_no); payload_sha256 is the
-- hash of what the sender said (booking_payload_sha256 below, the same for
-- both paths), so that a retry is told apart from a different booking
-- under a number already taken. Bookings are facts: rows are never
-- changed or deleted (a cancellation would be a fact of its own).

CREATE TABLE hospitals (
    centre   text NOT NULL REFERENCES centres (code),
    code     text NOT NULL CHECK (code ~ '^[a-z0-9_-]{1,32}$'),
    name     text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100 AND name !~ '[[:cntrl:]]'),
    enabled  boolean NOT NULL DEFAULT true,
    CONSTRAINT hospitals_pkey PRIMARY KEY (centre, code),
    -- Deferrable: a hospitals file may swap two names, which holds only
    -- once the whole file is in (hotline-admin defers it while loading).
    CONSTRAINT hospitals_name_unique UNIQUE (centre, name) DEFERRABLE
);

CREATE TABLE departments (
    centre    text NOT NULL,
    hospital  text NOT NULL,
    code      text NOT NULL CHECK (code ~ '^[a-z0-9_-]{1,32}$'),
    name      text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100 AND name !~ '[[:cntrl:]]'),
    enabled   boolean NOT NULL DEFAULT true,
    CONSTRAINT departments_pkey PRIMARY KEY (centre, hospital, code),
    CONSTRAINT departments_hospital_fkey FOREIGN KEY (centre, hospital)
        REFERENCES hospitals (centre, code)
);

CREATE TABLE booking_platforms (
    centre   text NOT NULL REFERENCES centres (code),
    code     text NOT NULL CHECK (code ~ '^[a-z0-9_-]{1,32}$'),
    name     text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100 AND name !~ '[[:cntrl:]]'),
    CONSTRAINT booking_platforms_pkey PRIMARY KEY (centre, code),
    CONSTRAINT booking_platforms_name_unique UNIQUE (centre, name) DEFERRABLE
);

CREATE TABLE bookings (
    centre          text NOT NULL,
    -- The alphabets as a class that must not match plus a length: the
    -- same rule as '^[a-z0-9_-]{1,32}$', checked several times faster,
    -- which a batch of a hundred thousand rows feels.
    source          text NOT NULL
        CHECK (char_length(source) BETWEEN 1 AND 32 AND source !~ '[^a-z0-9_-]'),
    booking_no      text NOT NULL
        CHECK (char_length(booking_no) BETWEEN 1 AND 64 AND booking_no !~ '[^A-Za-z0-9._:-]'),
    hospital        text NOT NULL,
    department      text NOT NULL,
    visit_date      date NOT NULL,
    channel         text NOT NULL
        CHECK (channel IN ('online_12320', 'phone', 'clinic', 'third_party')),
    platform        text,
    call_id         text,
    agent_id        text,
    caller_hash     bytea,
    caller_masked   text,
    booked_at       timestamptz NOT NULL,
    payload_sha256  bytea NOT NULL CHECK (octet_length(payload_sha256) = 32),
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT bookings_pkey PRIMARY KEY (centre, source, booking_no),
    CONSTRAINT bookings_department_fkey FOREIGN KEY (centre, hospital, department)
        REFERENCES departments (centre, hospital, code),
    CONSTRAINT bookings_platform_fkey FOREIGN KEY (centre, platform)
        REFERENCES booking_platforms (centre, code),
    CONSTRAINT bookings_call_fkey FOREIGN KEY (centre, call_id) REFERENCES calls (centre, call_id),
    CONSTRAINT bookings_phone_has_call CHECK (channel <> 'phone' OR call_id IS NOT NULL),
    CONSTRAINT bookings_platform_channel
        CHECK (platform IS NULL OR channel IN ('online_12320', 'third_party'))
);
CREATE INDEX bookings_booked_at ON bookings (centre, booked_at);
CREATE INDEX bookings_call ON bookings (centre, call_id) WHERE call_id IS NOT NULL;
CREATE INDEX bookings_caller ON bookings (caller_hash, booked_at) WHERE caller_hash IS NOT NULL;

CREATE FUNCTION bookings_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'bookings is append-only: a booking is a fact';
END $$;
CREATE TRIGGER bookings_no_update BEFORE UPDATE OR DELETE ON bookings
    FOR EACH ROW EXECUTE FUNCTION bookings_append_only();

-- The identity of a booking as its sender said it, for payload_sha256: the
-- SHA-256 of its fields in a fixed order, one per line, after a version
-- line. The broker's API (src/bookings.c) and the bulk import
-- (src/bookimport.c) both call this one function, so the same fields give
-- the same hash whichever way they came, and the JSON key order, white
-- space or the offset a time was written with do not matter. Every value
-- is checked against an alphabet without a newline before it is hashed, so
-- the lines cannot be confused. visit_date is the checked text YYYY-MM-DD
-- (not a date, whose text would follow DateStyle); booked_at is
-- microseconds since the epoch, NULL when the sender left it to the
-- broker's clock; platform, call_id and agent are NULL when not given.
CREATE FUNCTION booking_payload_sha256(p_booking_no text, p_hospital text, p_department text,
                                       p_visit_date text, p_channel text, p_platform text,
                                       p_call_id text, p_booked_at_usec bigint, p_agent text)
RETURNS bytea LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT sha256(convert_to(concat_ws(E'\n', 'hotline-booking/1', p_booking_no, p_hospital,
                                       p_department, p_visit_date, p_channel,
                                       coalesce(p_platform, ''), coalesce(p_call_id, ''),
                                       coalesce(p_booked_at_usec::text, ''),
                                       coalesce(p_agent, '')), 'UTF8'))
$$;

-- The checks of a batch (hotline-admin bookings import) are made in SQL,
-- over the whole batch at once, and must never raise an error: the first
-- bad line is reported, not the first one PostgreSQL tripped over. This
-- takes any text and answers false for what is not a date that exists,
-- from 1970 on, as the broker's API reads visit_date (src/bookings.c). It
-- is inlined into the batch's query, and tests the shape with translate()
-- rather than an anchored regular expression, several times slower per
-- row. Each CASE arm only reads what the arm before it has shown to be
-- digits, so no cast in it can fail. (booked_at is read by the importer
-- with the API's own RFC 3339 parser, src/timeutil.c, and checked in the
-- same query.)
CREATE FUNCTION booking_date_ok(t text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN translate(t, '123456789', '000000000') IS DISTINCT FROM '0000-00-00' THEN false
        ELSE substr(t, 1, 4)::int >= 1970 AND substr(t, 6, 2)::int BETWEEN 1 AND 12
             AND substr(t, 9, 2)::int BETWEEN 1 AND
                 CASE substr(t, 6, 2)::int
                     WHEN 2 THEN 28 + (substr(t, 1, 4)::int % 4 = 0
                                       AND (substr(t, 1, 4)::int % 100 <> 0
                                            OR substr(t, 1, 4)::int % 400 = 0))::int
                     WHEN 4 THEN 30 WHEN 6 THEN 30 WHEN 9 THEN 30 WHEN 11 THEN 30
                     ELSE 31 END
    END
$$;
