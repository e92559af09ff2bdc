// Starts dynalite on 127.0.0.1 at a port the system picks (dynalite's own cli.js reads
// --port 0 as "no port" and takes 4567), prints "listening at http://127.0.0.1:PORT",
// and stops when its standard input closes, so a test run that dies leaves no server.
// Tables are ACTIVE at once: the tests create a table per test and wait for it.
const dynalite = require("dynalite");

const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
server.listen(0, "127.0.0.1", () => {
  console.log(`listening at http://127.0.0.1:${server.address().port}`);
});
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
