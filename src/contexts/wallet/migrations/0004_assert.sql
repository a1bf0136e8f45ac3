-- A batch's write statement now goes out together with its commit (one round trip), so a pair
-- assertion about what it wrote must fail the statement itself, before that commit can run:
-- checking the answer afterwards would be too late. wallet.assert() raises when `ok` is not true
-- and returns true otherwise.
create function wallet.assert(ok boolean, message text) returns boolean
language plpgsql as $$
begin
  if ok is not true then
    raise exception 'wallet: %', message using errcode = 'XX000';
  end if;
  return true;
end
$$;
