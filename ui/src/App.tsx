import { useQuery } from "@tanstack/react-query";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { api, onNavigate, queries, queryClient } from "./api";
import type { LinkTarget, Status } from "./bindings";
import { chartZone, keyAction, loadPrefs, parseHash, savePrefs, toHash, type Prefs, type Route } from "./lib";
import { Header } from "./components/Header";
import { type KeyRegistry, useEngineEvents } from "./hooks";
import { Shortcuts } from "./components/Shortcuts";
import { Triage } from "./screens/Triage";
import { Thing } from "./screens/Thing";
import { Audit } from "./screens/Audit";
import { Actions } from "./screens/Actions";
import { Changes } from "./screens/Changes";
import { Sources } from "./screens/Sources";

export function App() {
  const [prefs, setPrefs] = useState<Prefs>(() => loadPrefs(window.localStorage));
  const [route, setRoute] = useState<Route>(() => parseHash(window.location.hash));
  const status = useQuery(queries.status()).data ?? null;
  const [help, setHelp] = useState(false);
  // The mounted screens' key handlers, the latest registered first (hooks/useKeys.ts).
  const keys = useRef<KeyRegistry>([]);

  useEffect(() => {
    savePrefs(window.localStorage, prefs);
    document.documentElement.dataset.theme = prefs.theme;
  }, [prefs]);

  useEffect(() => {
    const f = () => setRoute(parseHash(window.location.hash));
    window.addEventListener("hashchange", f);
    return () => window.removeEventListener("hashchange", f);
  }, []);

  useEngineEvents();
  // Something changed through the app (an action, a case, a source, the demo account): every
  // cached answer is stale, the status and the screens on show are asked again.
  const refreshStatus = useCallback(() => {
    void queryClient.invalidateQueries();
  }, []);

  const go = useCallback((r: Route) => {
    window.location.hash = toHash(r);
  }, []);

  // OS deep links (defender-desk://thing/…): the one the app was started with, and any opened
  // while it runs. The engine has checked each; all a link can do is navigate.
  useEffect(() => {
    const open = (t: LinkTarget) =>
      go(
        t.from !== null && t.to !== null
          ? { screen: "thing", thing: t.thing, from: t.from, to: t.to }
          : { screen: "thing", thing: t.thing },
      );
    api.pendingLink().then(
      (t) => t && open(t),
      () => {},
    );
    const un = onNavigate(open);
    return () => {
      un.then((f) => f());
    };
  }, [go]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      const inField = !!t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable);
      const a = keyAction(e.key, inField, e.ctrlKey || e.metaKey || e.altKey);
      if (!a) return;
      if (a === "help") {
        setHelp((h) => !h);
        e.preventDefault();
        return;
      }
      if (a === "back") {
        if (help) {
          setHelp(false);
          return;
        }
        if (keys.current.some((k) => k.current.back?.())) return;
        if (inField) {
          (t as HTMLElement).blur();
          return;
        }
        if (route.screen !== "triage") go({ screen: "triage" });
        return;
      }
      const handler = keys.current.map((k) => k.current[a]).find((h) => h !== undefined);
      if (handler) {
        e.preventDefault();
        handler();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [help, route, go]);

  const zone = useMemo(() => chartZone(prefs.tz), [prefs.tz]);
  const common = { prefs, zone, status, go, keys, refreshStatus };

  return (
    <div className="app">
      <Header route={route} prefs={prefs} setPrefs={setPrefs} status={status} go={go} onHelp={() => setHelp(true)} />
      <main>
        {route.screen === "triage" && <Triage {...common} />}
        {route.screen === "thing" && <Thing key={route.thing} {...common} route={route} />}
        {route.screen === "audit" && <Audit {...common} />}
        {route.screen === "actions" && <Actions {...common} />}
        {route.screen === "sources" && <Sources {...common} />}
        {route.screen === "changes" && <Changes {...common} />}
      </main>
      {help && <Shortcuts onClose={() => setHelp(false)} />}
    </div>
  );
}

export type Common = {
  prefs: Prefs;
  zone: string;
  status: Status | null;
  go: (r: Route) => void;
  keys: React.MutableRefObject<KeyRegistry>;
  refreshStatus: () => void;
};
