/** The stylesheet of every page: light and dark by `prefers-color-scheme`, responsive, visible focus. */
export const APP_CSS = `
:root{--bg:#f7f8fa;--fg:#1b1f24;--muted:#5b6470;--card:#fff;--line:#d8dde3;--accent:#1f5fbf;--accent-fg:#fff;
--ok:#176b32;--ok-bg:#e3f4e8;--bad:#a8201a;--bad-bg:#fde8e7;--warn:#7a5200;--warn-bg:#fff3d6;--mark:#6b3fa0;--mark-bg:#efe6fa;
--focus:#ffbf47;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;font-size:15px;line-height:1.45;color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--bg:#111418;--fg:#e6e9ed;--muted:#a1aab5;--card:#1a1f25;--line:#323a44;--accent:#6ea8ff;--accent-fg:#0b1220;
--ok:#7fd79a;--ok-bg:#16301f;--bad:#ff8f87;--bad-bg:#3a1715;--warn:#ffd27a;--warn-bg:#3a2c0e;--mark:#d2b6ff;--mark-bg:#2e2240}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg)}
a{color:var(--accent)}
a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,summary:focus-visible,tr:focus-visible,main:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
.skip{position:absolute;left:-999px;top:0;background:var(--card);padding:.5rem 1rem;z-index:10}
.skip:focus{left:.5rem}
.sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
header.top{display:flex;flex-wrap:wrap;align-items:center;gap:1rem;padding:.6rem 1.25rem;background:var(--card);border-bottom:1px solid var(--line)}
.brand{font-weight:700;font-size:1.1rem;text-decoration:none;color:var(--fg)}
header nav ul{display:flex;flex-wrap:wrap;gap:.25rem;list-style:none;margin:0;padding:0}
header nav a{display:block;padding:.35rem .7rem;border-radius:6px;text-decoration:none;color:var(--fg)}
header nav a[aria-current=page]{background:var(--accent);color:var(--accent-fg)}
.who{margin-left:auto;display:flex;align-items:center;gap:.6rem;color:var(--muted)}
main{padding:1rem 1.25rem 3rem;max-width:1500px;margin:0 auto}
h1{font-size:1.5rem;margin:.5rem 0 1rem;overflow-wrap:anywhere}
h2{font-size:1.1rem;margin:0 0 .6rem}
h2.spaced{margin-top:1.2rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:1rem;margin:0 0 1rem}
.page-head{display:flex;flex-wrap:wrap;align-items:center;justify-content:space-between;gap:.75rem}
.muted,.clipped{color:var(--muted)}
.clipped{font-style:italic}
.notice{padding:.6rem .8rem;border-radius:8px;background:var(--warn-bg);color:var(--warn)}
.notice.error{background:var(--bad-bg);color:var(--bad)}
.empty{padding:1.5rem;text-align:center;color:var(--muted)}
form.inline{display:inline}
.inline-form{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem}
.stack{display:grid;gap:.4rem;max-width:28rem}
label{font-weight:600;font-size:.85rem}
input,select,button,.button{font:inherit;padding:.4rem .55rem;border-radius:6px;border:1px solid var(--line);background:var(--bg);color:var(--fg);min-height:2.2rem}
button,.button{background:var(--accent);color:var(--accent-fg);border-color:var(--accent);cursor:pointer;text-decoration:none;display:inline-flex;align-items:center}
button.secondary,.button.secondary{background:transparent;color:var(--accent)}
button.danger{background:var(--bad);border-color:var(--bad);color:#fff}
button.link{background:none;border:none;color:var(--accent);padding:0;min-height:0;text-decoration:underline}
button[disabled]{opacity:.5;cursor:default}
.filter-panel>summary{cursor:pointer;font-weight:600;margin-bottom:.5rem;display:none}
.filters{display:grid;grid-template-columns:repeat(auto-fill,minmax(12rem,1fr));gap:.6rem .9rem;align-items:end}
.filters .field{display:grid;gap:.2rem;min-width:0}
.filters input:not([type=checkbox]),.filters select{width:100%;min-width:0}
input[type=checkbox]{min-height:0;width:1rem;height:1rem;margin:0;accent-color:var(--accent)}
.filters fieldset{border:none;padding:0;margin:0;grid-column:span 2;align-self:center}
.filters legend{font-weight:600;font-size:.85rem;padding:0}
.checks{display:flex;flex-wrap:wrap;gap:.2rem .7rem}
.checks label{font-weight:400;display:inline-flex;align-items:center;gap:.3rem;font-size:.9rem}
.filters .actions{display:flex;gap:.75rem;align-items:center}
.table-wrap{overflow-x:auto;background:var(--card);border:1px solid var(--line);border-radius:10px}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid var(--line);vertical-align:top;overflow-wrap:anywhere}
thead th{font-size:.8rem;text-transform:uppercase;letter-spacing:.03em;color:var(--muted);white-space:nowrap}
table.events td{max-width:22rem}
table.events tbody tr:hover,table.events tbody tr.selected{background:var(--bg)}
table.events td:first-child{white-space:nowrap}
.badge{display:inline-block;padding:.05rem .45rem;border-radius:999px;font-size:.78rem;border:1px solid var(--line);white-space:nowrap}
.outcome-success{background:var(--ok-bg);color:var(--ok);border-color:transparent}
.outcome-failure,.outcome-error,.outcome-denied{background:var(--bad-bg);color:var(--bad);border-color:transparent}
.role{background:var(--mark-bg);color:var(--mark);border-color:transparent}
mark.masked{background:var(--mark-bg);color:var(--mark);padding:0 .35rem;border-radius:4px;font-size:.78rem;font-family:system-ui,sans-serif}
.pager{display:flex;gap:1rem;justify-content:space-between;align-items:center;margin-top:.8rem}
.pager a[rel=next]{margin-left:auto}
.export{display:flex;gap:.4rem;align-items:center;color:var(--muted)}
dl.fields{display:grid;grid-template-columns:repeat(auto-fill,minmax(18rem,1fr));gap:.5rem 1.5rem;margin:0}
dl.fields dt{font-size:.8rem;color:var(--muted)}
dl.fields dd{margin:0;overflow-wrap:anywhere;max-height:16rem;overflow:auto}
pre.json{margin:0;white-space:pre-wrap;overflow-wrap:anywhere;font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;max-height:40rem;overflow:auto}
.j-key{color:var(--accent)}.j-str{color:var(--ok)}.j-lit{color:var(--mark)}.j-null{color:var(--muted)}
table.diff th[scope=row]{width:14rem}
td.before{background:var(--bad-bg)}td.after{background:var(--ok-bg)}
td.before pre,td.after pre{max-height:20rem}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em;overflow-wrap:anywhere}
.hash{font-size:.8em}
.links a{margin-right:.2rem}
.crumbs{font-size:.9rem;color:var(--muted)}
ol.timeline{list-style:none;padding:0;margin:0}
.timeline .when{margin-bottom:.5rem}
.tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(13rem,1fr));gap:1rem;margin-bottom:1rem}
.tile{display:grid;text-decoration:none;color:var(--fg);margin:0}
.tile .label{color:var(--muted);font-size:.85rem}
.tile .value{font-size:1.8rem;font-weight:700}
.columns{display:grid;grid-template-columns:repeat(auto-fit,minmax(20rem,1fr));gap:1rem}
.chart{min-height:300px;width:100%}
.chart.small{min-height:200px}
.result.ok{color:var(--ok)}.result.bad{color:var(--bad)}
.login{max-width:24rem;margin:3rem auto}
.login form{display:grid;gap:.5rem}
.login button{justify-content:center;margin-top:.5rem}
progress{width:14rem;vertical-align:middle}
.kbd-help{font-size:.8rem;color:var(--muted)}
@media (max-width:700px){main{padding:.75rem}.filter-panel>summary{display:list-item}.filters fieldset{grid-column:span 1}.who{margin-left:0}
table.events thead{display:none}table.events tr{display:block;border-bottom:1px solid var(--line);padding:.4rem 0}
table.events td{display:inline-block;border:none;padding:.15rem .4rem;max-width:100%}}
`;
