-- The player-accounts context pushes a player's policy from more than one place (the request
-- that changed it, a retrying sweeper, other processes). Each push carries pam's version of
-- the player, and an older push never overwrites a newer one.
alter table wallet.policies add column source_version bigint not null default 0;
