-- Accounts and regions as scope (issue #32). Things are keyed by model::scope keys: a cache
-- made before this keeps its bare names, which are things of unknown account, unchanged.
-- A finding is not a thing's row: it keeps its own account and region (Security Hub's, or the
-- source's), unknown for what earlier versions cached.
ALTER TABLE finding ADD COLUMN account TEXT;
ALTER TABLE finding ADD COLUMN region TEXT;
CREATE INDEX finding_account ON finding(account);
-- A source's account and region: learned (STS GetCallerIdentity for AWS API sources) or
-- stated by the analyst (an S3 bucket or Splunk index of another account's devices).
ALTER TABLE source ADD COLUMN account TEXT;
ALTER TABLE source ADD COLUMN region TEXT;
ALTER TABLE source ADD COLUMN account_from TEXT CHECK (account_from IN ('stated', 'learned'));
