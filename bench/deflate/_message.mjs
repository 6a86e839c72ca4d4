// A compressible chat/dashboard message of about 2 KiB of JSON, different every time.
export function message(i) {
  const items = [];
  for (let k = 0; items.join(",").length < 1900; k++) {
    items.push(
      JSON.stringify({
        id: i * 100 + k,
        user: `user${k % 7}`,
        status: k % 3 ? "online" : "away",
        score: (i * 31 + k) % 1000,
      }),
    );
  }
  return `{"seq":${i},"room":"general","items":[${items.join(",")}]}`.slice(0, 2048);
}
