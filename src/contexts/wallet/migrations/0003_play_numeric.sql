-- A player's stakes and wins per hour are counters without a ceiling: numeric, not int8. With
-- int8 every bet and win had to read the player's month of play first, only to refuse the one
-- that would pass 2^63 − 1 (the upsert below would have failed the whole batch otherwise); that
-- read was a fifth of a batch's time. Numeric sums cannot overflow, so the play windows are read
-- only for a bettor with a limit in force, the one case that needs them.
alter table wallet.play_hours
  alter column wagered type numeric,
  alter column won type numeric;
