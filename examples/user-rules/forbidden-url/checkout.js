const ACME = "https://licensing.acme.example/v2";

export async function activate(seat) {
  await fetch(`${ACME}/activate`, { method: "POST", body: seat }); // expect: ACME030
  return fetch("/api/seats/" + seat); // our own backend: fine
}
// fetch("https://licensing.acme.example/v2/old") — a comment, not a request
