// Aggregates of the bench table that a restore must reproduce, as text formatted alike by any
// SQLite (the tests compare restores value by value; this catches a lost or changed row).
export const DIGEST_SQL = `SELECT count(*) AS rows, count(i) AS ni, count(r) AS nr, count(t) AS nt, count(b) AS nb, count(n) AS nn,
  printf('%.10e', total(i)) AS i, printf('%.10e', total(r)) AS r, CAST(total(length(t)) AS INTEGER) AS t,
  CAST(total(length(b)) AS INTEGER) AS b, CAST(total(length(n)) AS INTEGER) AS n,
  CAST(max(i) AS TEXT) AS maxi, CAST(min(i) AS TEXT) AS mini, max(hex(b)) AS maxb, hex(min(t)) AS mint FROM bench`;
