-- What a screen judged its candidates against: per metric and hour the robust statistics of the
-- fleet and of each name family of at least five things. Bounded by the window and the screen's
-- row limit, not by the number of things; replaced with the screen.
CREATE TABLE screen_stat (
    source  TEXT NOT NULL REFERENCES screen(source) ON DELETE CASCADE,
    scope   TEXT NOT NULL CHECK (scope IN ('fleet', 'family')),
    family  TEXT,
    metric  TEXT NOT NULL,
    hour    INTEGER NOT NULL,
    things  INTEGER NOT NULL,
    median  REAL,
    p95     REAL,
    mad     REAL,
    CHECK ((scope = 'family') = (family IS NOT NULL))
) STRICT;
CREATE INDEX screen_stat_metric ON screen_stat(source, metric, hour);
