// The desk's admin pages and comment moderation (issue 14) in headless Chromium: an admin registers a
// webhook endpoint with a local receiver, sends a test delivery and follows it in the delivery log,
// redelivers it, rotates the secret (both signatures during the overlap), turns the endpoint off and on,
// edits and deletes it; reads and filters the audit log (cursor paging, details); sees the CDN purge
// queue and purges keys by hand (an HTTP purger with a local receiver); adds an editor with a suggested
// password. An editor bulk-approves two waiting comments, one a reply shown with the comment it
// answers, and the public list then shows them. axe on every screen, no console errors under the CSP.
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import http from "node:http";
import { pino } from "pino";
import { browserSkip, type TestPage } from "./support/browser.ts";
import { makeArticle, makeSection, publish, type TestApp } from "./support/harness.ts";
import { assertAccessible, assertNoConsoleErrors, deskTabs, LAPTOP, login, startDeskApp, TABLET, until } from "./support/desk.ts";
import { createWebhookRuntime, type WebhookRuntime } from "../src/distribution/webhooks/service.ts";
import { createPurgeService, type PurgeService } from "../src/distribution/purge/service.ts";

/** A local HTTP receiver that answers 200 and keeps what it got. */
class Receiver {
  received: { path: string; headers: http.IncomingHttpHeaders; body: string }[] = [];
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      this.received.push({ path: req.url ?? "/", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end("{}");
    });
  });
  async start() {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return this;
  }
  url(path: string) {
    return `http://127.0.0.1:${(this.server.address() as { port: number }).port}${path}`;
  }
  close() {
    return new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const hmac = (secret: string, timestamp: string, body: string) => crypto.createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex");

describe("the desk's admin pages and comment moderation in Chromium", { skip: browserSkip() }, () => {
  let t: TestApp;
  let base: string;
  let hooks: Receiver;
  let cdn: Receiver;
  let webhooks: WebhookRuntime;
  let purges: PurgeService;
  // Chromium logs a 4xx a test provokes on purpose as a console error; those tabs name the status.
  const expectedStatuses = new Map<TestPage, number[]>();
  const logger = pino({ level: "silent" });

  before(async () => {
    hooks = await new Receiver().start();
    cdn = await new Receiver().start();
    // The send-time guard refuses loopback addresses unless the host is allowed (as tests/webhooks.test.ts does).
    ({ t, base } = await startDeskApp({
      WEBHOOK_ALLOWED_HOSTS: "127.0.0.1",
      PURGE_PROVIDER: "http",
      PURGE_HTTP_URL: cdn.url("/purge"),
    }));
    // The harness app serves requests only; the webhook and purge senders run here, as the server starts them.
    webhooks = createWebhookRuntime(t.db.prisma, logger, t.config);
    await webhooks.start(t.events);
    purges = createPurgeService(t.db.prisma, logger, t.config, { pollIntervalMs: 200 });
    await purges.start(t.events);
    await makeSection(t, "world", undefined, "World");
  });
  const { open } = deskTabs({
    cleanup: async () => {
      await webhooks?.stop();
      await purges?.stop();
      await t?.close();
      await hooks?.close();
      await cdn?.close();
    },
    expectedStatuses: (tab) => expectedStatuses.get(tab),
  });

  let endpointId = 0;

  it("an admin adds a webhook endpoint, tests it, follows the delivery log, redelivers and rotates the secret", async () => {
    const tab = await open({ permissions: ["clipboard-read", "clipboard-write"] });
    expectedStatuses.set(tab, [400]);
    const { page } = tab;
    page.on("dialog", (d) => { void d.accept(); });
    await login(page, base, t.admin.email);
    await page.getByRole("link", { name: "Webhooks" }).click();
    await page.getByRole("heading", { level: 1, name: "Webhooks" }).waitFor();
    await page.getByText("No endpoints yet.").waitFor();
    await assertAccessible(page, "the webhooks page, empty");

    await page.getByRole("button", { name: "Add an endpoint" }).click();
    const form = page.locator("form.endpoint-form");
    // The server's refusal is shown with the field it names; nothing is created.
    await form.getByLabel("URL").fill("http://10.1.2.3/hook");
    await form.getByRole("button", { name: "Add endpoint" }).click();
    await form.getByRole("alert").filter({ hasText: /url: / }).waitFor();
    await form.getByLabel("URL").fill(hooks.url("/hook"));
    await form.getByLabel("Description").fill("Front end: rebuild story pages");
    await form.getByRole("checkbox", { name: /All comments/ }).check();
    await assertAccessible(page, "the new-endpoint form");
    await form.getByRole("button", { name: "Add endpoint" }).click();

    // The secret is shown once, with a copy button.
    const notice = page.getByTestId("new-secret");
    await notice.waitFor();
    const secret1 = await notice.getByLabel("Secret").inputValue();
    assert.match(secret1, /^whsec_/);
    await notice.getByRole("button", { name: "Copy secret" }).click();
    await notice.getByText(/Copied to the clipboard|press Ctrl\+C/).waitFor();
    const list = await t.get("/api/v1/admin/webhooks", { token: t.admin.token });
    assert.equal(list.body.data.length, 1);
    endpointId = list.body.data[0].id;
    assert.deepEqual(list.body.data[0].events, ["article.*", "comment.*"]);
    assert.equal(list.body.data[0].description, "Front end: rebuild story pages");
    assert.ok(!JSON.stringify(list.body).includes(secret1));
    await notice.getByRole("button", { name: "I have stored it" }).click();
    await notice.waitFor({ state: "detached" });

    const card = page.getByTestId("endpoint");
    assert.match(await card.getByTestId("endpoint-state").innerText(), /^On/);

    // A test delivery: queued, sent by the dispatcher, shown as succeeded with the receiver's answer.
    await card.getByRole("button", { name: "Send a test" }).click();
    await card.getByText(/Test delivery queued/).waitFor();
    const delivery = card.getByTestId("delivery").first();
    await delivery.filter({ hasText: "succeeded" }).waitFor({ timeout: 15_000 });
    assert.match(await delivery.innerText(), /ping[\s\S]*HTTP 200/);
    assert.equal(hooks.received.length, 1);
    const ping = hooks.received[0];
    assert.equal(ping.path, "/hook");
    assert.equal(ping.headers["dateline-signature"], `v1=${hmac(secret1, String(ping.headers["dateline-timestamp"]), ping.body)}`);

    // Its payload on demand; then redelivered: sent again with the same event id.
    await delivery.getByRole("button", { name: /^Payload of/ }).click();
    await card.locator("pre.details").filter({ hasText: '"type"' }).waitFor();
    await delivery.getByRole("button", { name: /^Redeliver/ }).click();
    await card.getByText(/queued again/).waitFor();
    await until(async () => hooks.received.length === 2, "the redelivery arrives", 15_000);
    assert.equal(hooks.received[1].headers["dateline-event-id"], ping.headers["dateline-event-id"]);
    await card.getByRole("button", { name: "Refresh" }).click();
    await card.getByTestId("delivery").first().filter({ hasText: "succeeded" }).waitFor();
    assert.equal(await card.getByTestId("delivery").count(), 1);
    await tab.screenshot("desk-webhooks");
    await assertAccessible(page, "the webhooks page with the delivery log");

    // Rotation: a new secret shown once; during the overlap deliveries carry both signatures.
    await card.getByRole("button", { name: "Rotate secret" }).click();
    await card.getByLabel("Overlap").selectOption({ label: "1 day (default)" });
    await assertAccessible(page, "the rotation panel");
    await card.getByRole("button", { name: "Rotate now" }).click();
    await notice.waitFor();
    await notice.getByText(/two signatures/).waitFor();
    const secret2 = await notice.getByLabel("Secret").inputValue();
    assert.match(secret2, /^whsec_/);
    assert.notEqual(secret2, secret1);
    await notice.getByRole("button", { name: "Copy secret" }).click();
    await notice.getByText(/Copied to the clipboard|press Ctrl\+C/).waitFor();
    await notice.getByRole("button", { name: "I have stored it" }).click();
    await card.getByText("Previous secret").waitFor();
    await card.getByRole("button", { name: "Send a test" }).click();
    await until(async () => hooks.received.length === 3, "the second test delivery arrives", 15_000);
    const second = hooks.received[2];
    const ts = String(second.headers["dateline-timestamp"]);
    assert.equal(second.headers["dateline-signature"], `v1=${hmac(secret2, ts, second.body)},v1=${hmac(secret1, ts, second.body)}`);
    await until(async () => (await card.getByTestId("delivery").count()) === 2, "the log shows both test deliveries");

    // Off and on again; an edit; at tablet width it still reads.
    await card.getByRole("button", { name: "Turn off" }).click();
    await card.getByTestId("endpoint-state").filter({ hasText: "Turned off by an admin" }).waitFor();
    await card.getByRole("button", { name: "Turn on" }).click();
    await card.getByTestId("endpoint-state").filter({ hasText: /^On/ }).waitFor();
    await card.getByRole("button", { name: "Edit" }).click();
    const edit = page.locator("form.endpoint-form");
    await edit.getByLabel("Description").fill("Front end: rebuild pages and comments");
    await edit.getByRole("button", { name: "Save changes" }).click();
    await card.getByText("Front end: rebuild pages and comments").waitFor();
    // Read back through the API. Polled: twice in some 30 runs on PGlite (once in CI) the first read after
    // the desk showed the saved text still had the old description; the cause is not found yet. A write
    // that is lost for good still fails here.
    await until(async () => (await t.get(`/api/v1/admin/webhooks/${endpointId}`, { token: t.admin.token })).body.description
      === "Front end: rebuild pages and comments", "the API reads back the new description");
    const stored = await t.get(`/api/v1/admin/webhooks/${endpointId}`, { token: t.admin.token });
    assert.equal(stored.body.description, "Front end: rebuild pages and comments");
    assert.equal(stored.body.active, true);
    assert.deepEqual(stored.body.events, ["article.*", "comment.*"]);
    await page.setViewportSize(TABLET.viewport);
    await tab.screenshot("desk-webhooks-tablet");
    await assertAccessible(page, "the webhooks page at tablet width");
    await page.setViewportSize(LAPTOP.viewport);
    assertNoConsoleErrors(tab, [400]);
    assert.equal(tab.consoleErrors.length, 1, "only the refused URL");
  });

  it("the audit log shows those actions, filters them, pages with the cursor and opens an entry's details", async () => {
    // 50 more webhook.update entries, so the filtered list needs "Load more" (50 a page).
    for (let i = 0; i < 50; i++) {
      const res = await t.patch(`/api/v1/admin/webhooks/${endpointId}`, { description: `Rebuild, take ${i}` }, { token: t.admin.token });
      assert.equal(res.status, 200);
    }
    const tab = await open();
    const { page } = tab;
    await login(page, base, t.admin.email);
    await page.getByRole("link", { name: "Audit log" }).click();
    await page.getByRole("heading", { level: 1, name: "Audit log" }).waitFor();
    await page.getByTestId("audit-entry").first().waitFor();
    await assertAccessible(page, "the audit log");

    // The webhook actions of the first test, by action prefix and by who did them.
    await page.getByLabel("Action").fill("webhook.");
    await page.getByLabel("Who").selectOption({ label: "ADMIN 1" });
    await page.getByRole("button", { name: "Filter" }).click();
    await page.getByRole("button", { name: "Load more" }).waitFor();
    await page.getByRole("button", { name: "Load more" }).click();
    await page.getByRole("button", { name: "Load more" }).waitFor({ state: "detached" });
    const actions = await page.getByTestId("audit-entry").locator("td:nth-child(3)").allInnerTexts();
    assert.ok(actions.every((a) => a.startsWith("webhook.")), actions.join());
    for (const a of ["webhook.create", "webhook.ping", "webhook.redeliver", "webhook.rotate-secret", "webhook.update"]) {
      assert.ok(actions.includes(a), `${a} in ${actions.join()}`);
    }
    const expected = await t.get("/api/v1/admin/audit?action=webhook.&limit=100", { token: t.admin.token });
    assert.equal(actions.length, expected.body.data.length);
    assert.ok(actions.length > 50);
    assert.deepEqual(new Set((await page.getByTestId("audit-entry").locator("td:nth-child(2)").allInnerTexts())), new Set(["ADMIN 1"]));

    // One exact action; its details on demand.
    await page.getByLabel("Action").fill("webhook.rotate-secret");
    await page.getByRole("button", { name: "Filter" }).click();
    await until(async () => (await page.getByTestId("audit-entry").count()) === 1, "one rotation entry");
    await page.getByRole("button", { name: /^Details of entry \d+, webhook\.rotate-secret/ }).click();
    const details = page.getByTestId("audit-details");
    await details.waitFor();
    assert.match(await details.innerText(), /overlapSeconds|86400|Entry #/);
    await tab.screenshot("desk-audit");
    await assertAccessible(page, "the audit log, filtered, with details open");

    // A time window (the site's time zone) that ends before anything happened.
    await page.getByLabel("Action").fill("");
    await page.getByLabel("Before").fill("2020-01-01T00:00");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.getByText("No entries match these filters.").waitFor();
    await page.getByLabel("Before").fill("");

    // A filter nothing matches, then Clear shows everything again (sign-ins included).
    await page.getByLabel("Action").fill("section.delete");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.getByText("No entries match these filters.").waitFor();
    await page.getByRole("button", { name: "Clear" }).click();
    await page.getByTestId("audit-entry").filter({ hasText: "auth.login" }).first().waitFor();
    assert.equal(await page.getByLabel("Action").inputValue(), "");
    assertNoConsoleErrors(tab);
  });

  it("an admin sees the CDN purge queue and purges keys by hand; then deletes the webhook endpoint", async () => {
    const tab = await open();
    const { page } = tab;
    page.on("dialog", (d) => { void d.accept(); });
    await login(page, base, t.admin.email);
    await page.getByRole("link", { name: "Purges" }).click();
    await page.getByRole("heading", { level: 1, name: "CDN purges" }).waitFor();
    await page.getByTestId("purge-provider").filter({ hasText: "HTTP endpoint" }).waitFor();
    await assertAccessible(page, "the purges page");

    // A URL is not a key: said before anything is sent.
    await page.getByLabel("Surrogate keys").fill("https://news.example.com/world");
    await page.getByRole("button", { name: "Purge", exact: true }).click();
    await page.getByText(/Not a surrogate key: https:\/\/news\.example\.com\/world/).waitFor();
    assert.ok(!cdn.received.some((r) => r.body.includes("news.example.com")));

    await page.getByLabel("Surrogate keys").fill("article:42\nfront:world tag:night-market");
    await page.getByLabel("Kind of purge").selectOption("hard");
    await page.getByRole("button", { name: "Purge", exact: true }).click();
    await page.getByText("Queued 3 keys for HTTP endpoint in 1 request (hard purge).").waitFor();
    const row = page.getByTestId("purge").filter({ hasText: "tag:night-market" });
    await row.filter({ hasText: "done" }).waitFor({ timeout: 15_000 });
    assert.match(await row.innerText(), /article:42[\s\S]*tag:night-market[\s\S]*HTTP endpoint, hard[\s\S]*done\s+1\s+HTTP 200/);
    const sent = cdn.received.find((r) => r.body.includes("tag:night-market"));
    assert.ok(sent);
    assert.deepEqual(JSON.parse(sent.body), { keys: ["article:42", "front:world", "tag:night-market"], soft: false });
    await page.getByLabel("Status").selectOption("failed");
    await page.getByText("No purge requests here.").waitFor();
    await page.getByLabel("Status").selectOption("done");
    await row.waitFor();
    await tab.screenshot("desk-purges");
    await assertAccessible(page, "the purges page with a request");
    const audit = await t.get("/api/v1/admin/audit?action=cdn.purge", { token: t.admin.token });
    assert.equal(audit.body.data.length, 1);

    // An endpoint Dateline turned off says why; turning it on clears that.
    await t.db.prisma.webhookEndpoint.update({
      where: { id: endpointId }, data: { active: false, disabledReason: "The receiver answered 410 Gone.", disabledAt: new Date(), consecutiveFailures: 1 },
    });
    await page.getByRole("link", { name: "Webhooks" }).click();
    const state = page.getByTestId("endpoint-state");
    await state.filter({ hasText: /^Off Turned off by Dateline on .+: The receiver answered 410 Gone\.$/ }).waitFor();
    await assertAccessible(page, "an endpoint turned off by Dateline");
    await page.getByTestId("endpoint").getByRole("button", { name: "Turn on" }).click();
    await state.filter({ hasText: /^On$/ }).waitFor();

    // The endpoint goes, with its log, after a confirmation.
    await page.getByTestId("endpoint").getByRole("button", { name: "Delete" }).click();
    await page.getByText(/Deleted the endpoint/).waitFor();
    await page.getByText("No endpoints yet.").waitFor();
    assert.equal((await t.get(`/api/v1/admin/webhooks/${endpointId}`, { token: t.admin.token })).status, 404);
    assertNoConsoleErrors(tab);
  });

  it("an admin adds an editor with a suggested first password, who can then sign in", async () => {
    const tab = await open();
    const { page } = tab;
    await login(page, base, t.admin.email);
    await page.getByRole("link", { name: "Editors" }).click();
    await page.getByRole("heading", { level: 1, name: "Editors" }).waitFor();
    await page.getByLabel("Name", { exact: true }).fill("Night Desk");
    await page.getByLabel("Email").fill("night.desk@test.local");
    await page.getByRole("button", { name: "Suggest a password" }).click();
    const password = await page.getByLabel("First password").inputValue();
    assert.match(password, /^[A-Za-z2-9]{20}$/);
    assert.equal(await page.getByLabel("First password").getAttribute("type"), "text");
    await assertAccessible(page, "the editors page with a suggested password");
    await page.getByRole("button", { name: "Add editor" }).click();
    await page.getByText(/Night Desk can sign in now/).waitFor();
    const signIn = await t.post("/api/v1/auth/login", { email: "night.desk@test.local", password });
    assert.equal(signIn.status, 200, signIn.text);
    assertNoConsoleErrors(tab);
  });

  it("an editor approves two waiting comments at once, one a reply shown with its parent; the public list shows them", async () => {
    const a = await makeArticle(t, { headline: "Night market reopens on the river bank", section: "world" });
    await publish(t, a.id);
    const post = (fields: Record<string, unknown>, n: number) =>
      t.post(`/api/v1/articles/${a.slug}/comments`, fields, { headers: { "X-Forwarded-For": `198.51.100.${n}` } });
    const parent = await post({ name: "Mei", body: "Will the food stalls keep their old places?" }, 1);
    assert.equal(parent.status, 202);
    assert.equal((await t.patch(`/api/v1/admin/comments/${parent.body.id}`, { status: "APPROVED" }, { token: t.editor.token })).status, 200);
    const reply = await post({ name: "Tomás", body: "Yes, the council kept the map.", parentId: parent.body.id }, 2);
    const other = await post({ name: "Ravi", body: "Finally, the riverside is alive again." }, 3);
    const junk = await post({ name: "Cheap deals", body: "Visit my shop for discount lanterns." }, 4);
    for (const r of [reply, other, junk]) assert.equal(r.status, 202, r.text);

    const tab = await open();
    const { page } = tab;
    await login(page, base, t.editor.email);
    await page.getByRole("link", { name: "Comments" }).click();
    await page.getByRole("heading", { level: 1, name: "Comments" }).waitFor();
    const replyItem = page.getByTestId("comment").filter({ hasText: "Yes, the council kept the map." });
    await replyItem.waitFor();
    // The reply shows the comment it answers, and the article (a link into the desk's editor).
    const context = replyItem.getByTestId("parent");
    assert.match(await context.innerText(), /In reply to Mei[\s\S]*Will the food stalls keep their old places\?/);
    assert.equal(await replyItem.getByRole("link", { name: "Night market reopens on the river bank" }).getAttribute("href"), `/desk/articles/${a.id}`);
    assert.equal(await page.getByTestId("comment").filter({ hasText: "Finally, the riverside" }).getByTestId("parent").count(), 0);
    await assertAccessible(page, "the comment queue with the bulk bar");

    await page.getByLabel("Select the comment by Tomás").check();
    await page.getByLabel("Select the comment by Ravi").check();
    assert.equal(await page.getByTestId("selected-count").innerText(), "2 selected");
    await tab.screenshot("desk-comments");
    await page.getByRole("button", { name: "Approve selected" }).click();
    await page.getByText("Approved: 2 comments.").waitFor();
    await replyItem.waitFor({ state: "detached" });
    assert.equal(await page.getByTestId("comment").count(), 1);

    const pub = await fetch(`${base}/api/v1/articles/${a.slug}/comments`);
    const comments = await pub.json() as { data: { name: string; body: string; replies: { name: string; body: string }[] }[] };
    const byName = new Map(comments.data.map((c) => [c.name, c]));
    assert.deepEqual([...byName.keys()].sort(), ["Mei", "Ravi"]);
    assert.deepEqual(byName.get("Mei")!.replies.map((r) => [r.name, r.body]), [["Tomás", "Yes, the council kept the map."]]);
    const audit = await t.get(`/api/v1/admin/audit?action=comment.moderate&actor=${t.editor.id}`, { token: t.admin.token });
    assert.equal(audit.body.data.filter((e: { details: { bulk?: boolean } | null }) => e.details?.bulk).length, 2);

    // The keyboard stays in the queue: on the remaining comment's checkbox, which Space toggles.
    await until(async () => (await page.evaluate("document.activeElement.id")) === `sel-${junk.body.id}`, "the focus is on the next comment");
    await page.keyboard.press("Space");
    assert.equal(await page.getByTestId("selected-count").innerText(), "1 selected");
    await page.keyboard.press("Space");
    assert.equal(await page.getByTestId("selected-count").innerText(), "0 selected");
    // Select all on the page, then spam: the queue is empty and the Spam tab has it.
    await page.getByLabel(/^Select all 1 shown/).check();
    assert.equal(await page.getByTestId("selected-count").innerText(), "1 selected");
    await page.getByRole("button", { name: "Spam selected" }).click();
    await page.getByText("Marked as spam: 1 comment.").waitFor();
    await page.getByText("No comments here.").waitFor();
    await page.getByRole("button", { name: "Spam", exact: true }).click();
    await page.getByTestId("comment").filter({ hasText: "discount lanterns" }).waitFor();
    assert.equal((await t.db.prisma.comment.findUniqueOrThrow({ where: { id: junk.body.id } })).status, "SPAM");
    await assertAccessible(page, "the spam tab");
    assertNoConsoleErrors(tab);
  });

  it("writers and editors do not get the admin pages", async () => {
    const tab = await open();
    const { page } = tab;
    await login(page, base, t.editor.email);
    assert.equal(await page.getByRole("link", { name: "Webhooks" }).count(), 0);
    assert.equal(await page.getByRole("link", { name: "Audit log" }).count(), 0);
    await page.goto(`${base}/desk/audit`);
    await page.getByText("for admins", { exact: false }).waitFor();
    assert.equal(await page.getByTestId("audit-entry").count(), 0);
    assertNoConsoleErrors(tab);
  });
});
