-- Chunk format 3 keeps a chunk's time column apart as a timeline, which the thing's other
-- series of that day share: one device report gives every metric the same timestamps, so a
-- day's times are stored once per thing instead of once per metric. `refs` counts the chunks
-- that use a timeline; the last one to let go deletes it. Found by `hash` (chunk::timeline_hash)
-- and then compared byte for byte.
CREATE TABLE timeline (
    id   INTEGER PRIMARY KEY,
    hash INTEGER NOT NULL,
    refs INTEGER NOT NULL,
    data BLOB NOT NULL
);
CREATE INDEX timeline_hash ON timeline(hash);
ALTER TABLE chunk ADD COLUMN timeline INTEGER REFERENCES timeline(id);
-- Compaction finds the oldest days without reading every chunk.
CREATE INDEX chunk_day ON chunk(day);

-- Days compacted (`ddesk compact`): their chunks are gone, their summaries (exact hourly count,
-- sum, min and max; the sets seen) are what is kept. One row per series and day.
CREATE TABLE compacted (
    series INTEGER NOT NULL REFERENCES series(id),
    day    INTEGER NOT NULL,
    n      INTEGER NOT NULL,
    PRIMARY KEY (series, day)
) WITHOUT ROWID;
CREATE INDEX compacted_day ON compacted(day);

-- A cache made by an older version holds chunks of format 1 and summaries of format 1: the
-- upgrade (Store::upgrade_chunks) rewrites them in bounded steps, from this position.
INSERT INTO meta(key, value) SELECT 'chunk_upgrade', '0' WHERE EXISTS (SELECT 1 FROM chunk);
