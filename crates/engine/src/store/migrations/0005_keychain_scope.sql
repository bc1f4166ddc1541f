-- Keychain entries of this cache's sources are filed under this random scope as well as the
-- source's name: two caches (two projects, a test run, the analyst's and a colleague's copy)
-- with a source of the same name no longer read, replace or delete each other's token.
INSERT OR IGNORE INTO meta(key, value) VALUES ('keychain_scope', lower(hex(randomblob(8))));
