// The site's browser code: the planner, sortable and filterable tables, interactive charts and
// copy buttons. Hand-written; it works from window.CATALOGUE_DATA (catalogue-data.js, generated
// by `catalogue docs` from the registry and the records) and draws with the vendored uPlot.
//
// The planner repeats what `catalogue plan` does (glu_catalogue/plan/planner.py and
// core/formulas.py), with the same float operations in the same order, so that its answers
// are bit for bit those of `catalogue plan --format json` (tests/e2e/test_browser.py compares them
// for every registry model on a grid of targets). It counts parameters as the baseline total
// minus what the removed neuron pairs held (both numbers generated from the closed form), so the
// closed form itself is written once, in Python. Its notes fill the templates the Python fills,
// formatted as Python's str.format formats them.
(function () {
  "use strict";

  const DATA = window.CATALOGUE_DATA;

  // An outcome chart's data is in the page that draws it (site/markdown.py chart_div), not in the data file
  // every page loads: each is added to DATA.outcome_charts by its chart's name.
  DATA.outcome_charts = DATA.outcome_charts || {};
  for (const node of document.querySelectorAll(".catalogue-chart[data-chart] > script.catalogue-chart-data")) {
    DATA.outcome_charts[node.parentElement.dataset.chart] = JSON.parse(node.textContent);
  }

  // An outcome series names its model's page once (its page holds the data, kept small): each point links to
  // its record's row there (site/links.py row_anchor: pruning-PCT), and a series with a 0 % point gets each
  // point's change from it (in %), the charts' "change from baseline" view.
  for (const chart of Object.values(DATA.outcome_charts || {})) {
    const measured = chart.measure && (chart.measure.kind === "score" || chart.measure.kind === "efficiency");
    for (const s of chart.series) {
      if (!s.links && s.page) s.links = s.pcts.map((pct) => s.page + "#pruning-" + pct);
      if (measured && !s.changes && s.pcts) {
        const at = s.pcts.indexOf(0);
        const base = at >= 0 ? s.points[at][1] : null;
        s.changes = s.points.map((point) => (base ? (100 * (point[1] - base)) / base : null));
      }
    }
  }

  // --- Python's number formatting ------------------------------------------------------------
  // Python rounds the exact binary value half-to-even; JavaScript's toFixed/toPrecision round
  // exact ties up. Both agree everywhere else, so the digits are taken from the exact decimal
  // expansion of the double and rounded here.

  /** The exact decimal expansion of a finite, non-negative double: its digits (no leading or trailing zeros) and the decimal exponent of the first. */
  function exactDigits(value) {
    const text = value.toPrecision(100); // every digit of the exact value, for the planner's range
    const [mantissa, exponentText] = text.split("e");
    const [whole, fraction = ""] = mantissa.split(".");
    const all = whole + fraction;
    const leading = all.length - all.replace(/^0+/, "").length;
    const digits = all.slice(leading).replace(/0+$/, "");
    if (!digits) return { digits: "0", exponent: 0 };
    const exponent = exponentText !== undefined ? Number(exponentText) : whole.length - 1 - leading;
    return { digits, exponent };
  }

  /** The integer the first ``keep`` of ``digits`` make, rounded half-to-even by the rest (keep may be 0 or less). */
  function roundHalfEven(digits, keep) {
    if (keep < 0) return 0n;
    if (digits.length <= keep) return BigInt(digits.padEnd(keep, "0") || "0");
    const head = keep > 0 ? BigInt(digits.slice(0, keep)) : 0n;
    const rest = digits.slice(keep);
    const beyond = /[1-9]/.test(rest.slice(1));
    const up = rest[0] > "5" || (rest[0] === "5" && (beyond || head % 2n === 1n));
    return up ? head + 1n : head;
  }

  function signOf(value) {
    return value < 0 || Object.is(value, -0) ? "-" : "";
  }

  function nonFinite(value) {
    return Number.isNaN(value) ? "nan" : value > 0 ? "inf" : "-inf";
  }

  /** Python's f"{value:.{decimals}f}". */
  function pyFixed(value, decimals) {
    if (!Number.isFinite(value)) return nonFinite(value);
    const { digits, exponent } = exactDigits(Math.abs(value));
    const scaled = digits === "0" ? 0n : roundHalfEven(digits, exponent + 1 + decimals);
    const text = scaled.toString().padStart(decimals + 1, "0");
    const point = text.length - decimals;
    return signOf(value) + text.slice(0, point) + (decimals > 0 ? "." + text.slice(point) : "");
  }

  /** Python's f"{value:.{precision}g}" (and f"{value:g}" with precision 6). */
  function pyGeneral(value, precision) {
    if (!Number.isFinite(value)) return nonFinite(value);
    const p = precision === 0 ? 1 : precision;
    if (value === 0) return signOf(value) + "0";
    const exact = exactDigits(Math.abs(value));
    let rounded = roundHalfEven(exact.digits, p).toString();
    let exponent = exact.exponent;
    if (rounded.length > p) {
      rounded = rounded.slice(0, p);
      exponent += 1;
    }
    const trim = (text) => (text.includes(".") ? text.replace(/0+$/, "").replace(/\.$/, "") : text);
    if (exponent >= -4 && exponent < p) {
      const text = exponent >= 0
        ? rounded.slice(0, exponent + 1) + "." + rounded.slice(exponent + 1)
        : "0." + "0".repeat(-exponent - 1) + rounded;
      return signOf(value) + trim(text);
    }
    const mantissa = trim(rounded[0] + "." + rounded.slice(1));
    return signOf(value) + mantissa + "e" + (exponent < 0 ? "-" : "+") + String(Math.abs(exponent)).padStart(2, "0");
  }

  /** Python's repr() of a float: the shortest digits that round-trip, in Python's layout. */
  function pyRepr(value) {
    if (!Number.isFinite(value)) return nonFinite(value);
    const sign = signOf(value);
    const [mantissa, exponentText] = Math.abs(value).toExponential().split("e");
    const digits = mantissa.replace(".", "");
    const exponent = Number(exponentText);
    if (exponent >= -4 && exponent < 16) {
      if (exponent >= 0) {
        const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, "0");
        return sign + whole + "." + (digits.slice(exponent + 1) || "0");
      }
      return sign + "0." + "0".repeat(-exponent - 1) + digits;
    }
    const shown = digits.length > 1 ? digits[0] + "." + digits.slice(1) : digits;
    return sign + shown + "e" + (exponent < 0 ? "-" : "+") + String(Math.abs(exponent)).padStart(2, "0");
  }

  /** Python's repr() of a short string: 'text', or "text" when it holds a single quote. */
  function pyReprString(text) {
    const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
    return quote + text.replace(/\\/g, "\\\\").split(quote).join("\\" + quote) + quote;
  }

  /**
   * ``template.format(**values)`` for the fields the planner's templates use: ``{name}``,
   * ``{name:g}``, ``{name:.4g}``. A value is {int: n}, {float: x} or a string, because
   * Python prints an int and a float of the same value differently.
   */
  function pyFormat(template, values) {
    return template.replace(/\{(\w+)(?::([^}]*))?\}/g, function (_, name, spec) {
      if (!(name in values)) throw new Error("template field " + name + " has no value");
      const value = values[name];
      if (typeof value === "string") return value;
      const number = "int" in value ? value.int : value.float;
      if (spec === undefined || spec === "") return "int" in value ? String(number) : pyRepr(number);
      const general = /^(?:\.(\d+))?g$/.exec(spec);
      if (general) return pyGeneral(number, general[1] === undefined ? 6 : Number(general[1]));
      const fixed = /^,?\.(\d+)f$/.exec(spec);
      if (fixed) return pyFixed(number, Number(fixed[1]));
      throw new Error("format spec " + spec + " is not supported");
    });
  }

  /** A number with thousands separators and ``decimals`` decimals, as Python's f"{x:,.2f}". */
  function grouped(value, decimals) {
    const text = decimals === undefined ? String(value) : pyFixed(value, decimals);
    const [whole, fraction] = text.split(".");
    const withCommas = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return fraction === undefined ? withCommas : withCommas + "." + fraction;
  }

  // --- the planner's arithmetic (plan/planner.py, core/formulas.py) -------------------------------

  const DECIMAL_PRECISION = 28; // Python's default decimal context

  /**
   * optipfair's expansion_rate (percent) for a typed ratio: ``float(Decimal(text.strip()) * 100)``,
   * as planner.expansion_rate_pct_for_ratio computes it, then the command line's check that it
   * is positive. Throws an Error with the command line's message.
   */
  function expansionRatePct(text) {
    const stripped = String(text).trim();
    const cleaned = stripped.replace(/_/g, ""); // Decimal ignores underscores
    if (/^[+-]?(inf|infinity|s?nan\d*)$/i.test(cleaned)) {
      throw new Error("expansion ratio " + pyReprString(String(text)) + " is not a finite number");
    }
    const match = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(cleaned);
    if (!match || (match[2] + (match[3] || "")).length === 0) {
      throw new Error("expansion ratio " + pyReprString(String(text)) + " is not a number (e.g. 2.4)");
    }
    const [, sign, whole, fraction = "", exponentText = "0"] = match;
    let digits = (whole + fraction).replace(/^0+/, "");
    let exponent = Number(exponentText) - fraction.length + 2; // x 100
    if (digits.length > DECIMAL_PRECISION) {
      exponent += digits.length - DECIMAL_PRECISION;
      digits = roundHalfEven(digits, DECIMAL_PRECISION).toString(); // may carry to 29 digits: same value
    }
    const ratePct = Number(sign + (digits || "0") + "e" + exponent);
    if (!Number.isFinite(ratePct)) {
      throw new Error("expansion ratio " + pyReprString(String(text)) + " is not a finite number");
    }
    if (ratePct <= 0) throw new Error(String(text) + " is not a positive factor (e.g. 2.4)");
    return ratePct;
  }

  /** A pruning percentage as the command line reads it (formulas.pruning_pct_from_text): a float in 0-100, else an Error in its words. */
  function pruningPct(text) {
    const shown = String(text).trim();
    const cleaned = shown.replace(/(?<=\d)_(?=\d)/g, "");
    let value;
    if (/^[+-]?(inf|infinity|nan)$/i.test(cleaned)) value = NaN;
    else if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(cleaned)) value = Number(cleaned);
    else throw new Error("pruning % " + pyReprString(String(text)) + " is not a number (e.g. 40)");
    if (!Number.isFinite(value)) throw new Error("pruning % " + pyReprString(String(text)) + " is not a finite number (e.g. 40)");
    if (value < 0 || value > 100) throw new Error("pruning % must be between 0 and 100, got " + shown);
    return value;
  }

  /** formulas.kept_neurons: the width optipfair keeps, or {error} where optipfair raises. */
  function keptNeurons(intermediateSize, pct, divisor) {
    if (!(pct >= 0 && pct <= 100)) {
      return { error: "pruning_percentage must be between 0 and 100, got " + pyRepr(pct) };
    }
    let kept = intermediateSize - Math.min(Math.trunc((pct / 100) * intermediateSize), intermediateSize - 1);
    if (divisor !== null) kept = Math.max(Math.floor(kept / divisor) * divisor, 1);
    if (pct > 0 && kept >= intermediateSize) {
      return {
        error: pyFormat(DATA.planner.notes["no-effective-pruning"], {
          kept: { int: kept },
          intermediate_size: { int: intermediateSize },
        }),
      };
    }
    return { kept: kept };
  }

  /** A PlanRow with its fields in planner.py's order; ``outcome`` fills the numbers after pruning_pct. */
  function row(model, target, divisor, status, note, pct, outcome) {
    const I = model.intermediate_size;
    const H = model.hidden_size;
    const empty = {
      intermediate_size: null, expansion_ratio: null, total_parameters: null,
      parameters_saved: null, parameter_reduction_pct: null, expansion_reduction_pct: null,
    };
    return Object.assign(
      {
        model_id: model.model_id,
        family: model.family,
        size_label: model.size_label,
        hidden_size: H,
        original_intermediate_size: I,
        original_expansion_ratio: I / H,
        original_total_parameters: model.total_parameters,
        target_expansion_ratio: target,
        expansion_divisor: divisor,
        status: status,
        note: note,
        pruning_pct: pct === undefined ? null : pct,
      },
      empty,
      outcome || {}
    );
  }

  /** planner._pruned_row: optipfair's width at ``pct``, the parameters left and the reductions (none for a model it cannot prune). */
  function prunedRow(model, pct, target, divisor) {
    if (model.pruned_status === "not-prunable") return row(model, target, divisor, "not-prunable", model.pruned_note, pct);
    const found = keptNeurons(model.intermediate_size, pct, divisor);
    if (found.error !== undefined) {
      return row(model, target, divisor, "refused", pyFormat(DATA.planner.notes.refused, { error: found.error }), pct);
    }
    const kept = found.kept;
    const I = model.intermediate_size;
    const total = model.total_parameters;
    const pruned = total - (I - kept) * model.parameters_per_neuron;
    return row(model, target, divisor, model.pruned_status, model.pruned_note, pct, {
      intermediate_size: kept,
      expansion_ratio: kept / model.hidden_size,
      total_parameters: pruned,
      parameters_saved: total - pruned,
      parameter_reduction_pct: ((total - pruned) / total) * 100,
      expansion_reduction_pct: ((I - kept) / I) * 100,
    });
  }

  /** planner.plan_for_ratio, from the rate optipfair is given (percent). */
  function rowForRate(model, ratePct, divisor) {
    const H = model.hidden_size;
    const I = model.intermediate_size;
    if (model.pruned_status === "not-prunable") return row(model, ratePct / 100, divisor, "not-prunable", model.pruned_note);
    const targetSize = (ratePct / 100) * H;
    if (targetSize >= I) {
      const note = pyFormat(DATA.planner.notes["below-target"], {
        baseline_ratio: { float: I / H },
        intermediate_size: { int: I },
        hidden_size: { int: H },
        target_ratio: { float: ratePct / 100 },
      });
      return row(model, ratePct / 100, divisor, "below-target", note);
    }
    return prunedRow(model, (1 - targetSize / I) * 100, ratePct / 100, divisor);
  }

  /**
   * ``catalogue plan``: one row per model, for a typed ratio ({ratio: "2.4"}) or a pruning
   * percentage ({pct: "40"}), and a divisor (null or one of optipfair's). Throws an Error with
   * the command line's message for a target it would reject.
   */
  function plan(models, question) {
    const divisor = question.divisor === undefined || question.divisor === null || question.divisor === "" ? null : Number(question.divisor);
    if (divisor !== null && !DATA.planner.divisors.includes(divisor)) {
      throw new Error("expansion_divisor must be one of " + JSON.stringify(DATA.planner.divisors) + " or None, got " + divisor);
    }
    if ((question.ratio === undefined) === (question.pct === undefined)) throw new Error("give exactly one of ratio or pct");
    if (question.ratio !== undefined) {
      const ratePct = expansionRatePct(question.ratio);
      return models.map((model) => rowForRate(model, ratePct, divisor));
    }
    const pct = pruningPct(question.pct);
    return models.map((model) => prunedRow(model, pct, null, divisor));
  }

  /** Every registry model the planner knows, by id. */
  function modelsById() {
    return new Map(DATA.planner.models.map((model) => [model.model_id, model]));
  }

  // --- site paths ----------------------------------------------------------------------------

  /** The site's root as a relative URL from this page (mkdocs-material's __config). */
  function siteBase() {
    const config = document.getElementById("__config");
    const base = config ? JSON.parse(config.textContent).base : ".";
    return base.endsWith("/") ? base : base + "/";
  }

  function element(tag, attributes, children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "text") node.textContent = value;
      else if (key === "className") node.className = value;
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children || []) node.append(child);
    return node;
  }

  // --- the planner page ------------------------------------------------------------------------

  const PLANNER_COLUMNS = [
    ["Model", "l"], ["Baseline ratio", "r"], ["Pruning %", "r"], ["Kept width", "r"], ["Ratio reached", "r"],
    ["Parameters after (M)", "r"], ["Saved (M)", "r"], ["Reduction %", "r"], ["Status", "l"],
  ];

  /** The planner's state from the query string: mode, target text, divisor, chosen model ids. */
  function readState(params, models) {
    const families = params.getAll("family");
    const chosen = params.getAll("model").filter((id) => models.has(id));
    for (const model of models.values()) if (families.includes(model.family)) chosen.push(model.model_id);
    const all = !params.has("model") && !params.has("family");
    const mode = params.has("pct") && !params.has("ratio") ? "pct" : "ratio";
    return {
      mode: mode,
      target: params.get(mode) || (mode === "ratio" ? "2.4" : "40"),
      divisor: params.get("divisor") || "",
      chosen: new Set(all ? models.keys() : chosen),
    };
  }

  /** The query string of a state: whole families as family=, single models as model=, nothing for all. */
  function writeState(state, models) {
    const params = new URLSearchParams();
    params.set(state.mode, state.target);
    if (state.divisor) params.set("divisor", state.divisor);
    if (state.chosen.size !== models.size) {
      const byFamily = familiesOf(models);
      for (const [family, ids] of byFamily) {
        if (ids.every((id) => state.chosen.has(id))) params.append("family", family);
        else ids.filter((id) => state.chosen.has(id)).forEach((id) => params.append("model", id));
      }
      if (!state.chosen.size) params.append("model", "");
    }
    return "?" + params.toString();
  }

  function familiesOf(models) {
    const families = new Map();
    for (const model of models.values()) {
      if (!families.has(model.family)) families.set(model.family, []);
      families.get(model.family).push(model.model_id);
    }
    return new Map([...families].sort((a, b) => a[0].toLowerCase().localeCompare(b[0].toLowerCase())));
  }

  /** The command line that gives the same rows. */
  function command(state, models) {
    const parts = ["catalogue plan", state.mode === "ratio" ? "--ratio " + state.target.trim() : "--pct " + state.target.trim()];
    if (state.divisor) parts.push("--divisor " + state.divisor);
    if (state.chosen.size !== models.size) for (const id of models.keys()) if (state.chosen.has(id)) parts.push("--model " + id);
    return parts.join(" ");
  }

  function cellsOf(result, base, notes) {
    const model = result.model;
    // The organisation is hidden on narrow screens (CSS); the whole id stays in the title.
    const [org, name] = model.model_id.includes("/") ? [model.model_id.split("/")[0] + "/", model.model_id.split("/").slice(1).join("/")] : ["", model.model_id];
    const label = [element("span", { className: "catalogue-org", text: org }), name];
    const link = element(model.page ? "a" : "span", { href: model.page ? base + model.page : null, title: model.model_id }, label);
    const dash = "—";
    const r = result.row;
    const baseline = element("span", { title: r.original_intermediate_size + " / " + r.hidden_size, text: pyFixed(r.original_expansion_ratio, 2) + "x" });
    const millions = (value) => (value === null ? dash : element("span", { title: grouped(value) + " parameters", text: grouped(value / 1e6, 2) }));
    let status = r.status;
    if (r.note) {
      notes.push(r);
      status += " [" + notes.length + "]";
    }
    return [
      link,
      baseline,
      r.pruning_pct === null ? dash : pyFixed(r.pruning_pct, 2),
      r.intermediate_size === null ? dash : grouped(r.intermediate_size),
      r.expansion_ratio === null ? dash : pyFixed(r.expansion_ratio, 4) + "x",
      millions(r.total_parameters),
      millions(r.parameters_saved),
      r.parameter_reduction_pct === null ? dash : pyFixed(r.parameter_reduction_pct, 2),
      element("span", { className: "catalogue-status catalogue-status--" + r.status, text: status }),
    ];
  }

  /** The target fieldset: ratio or percentage, the value, optipfair's divisor. */
  function targetControls(base) {
    const controls = {
      modeRatio: element("input", { type: "radio", name: "catalogue-mode", value: "ratio", id: "planner-mode-ratio" }),
      modePct: element("input", { type: "radio", name: "catalogue-mode", value: "pct", id: "planner-mode-pct" }),
      target: element("input", { type: "text", inputmode: "decimal", id: "planner-target", autocomplete: "off", spellcheck: "false" }),
      divisor: element("select", { id: "planner-divisor" }, [element("option", { value: "", text: "none" })].concat(
        DATA.planner.divisors.map((value) => element("option", { value: String(value), text: String(value) }))
      )),
    };
    controls.box = element("fieldset", { className: "catalogue-planner__target" }, [
      element("legend", { text: "Target" }),
      element("label", { for: "planner-mode-ratio" }, [controls.modeRatio, " expansion ratio (x)"]),
      element("label", { for: "planner-mode-pct" }, [controls.modePct, " pruning %"]),
      element("label", { for: "planner-target", className: "catalogue-planner__value" }, [element("span", { text: "value" }), controls.target]),
      element("label", { for: "planner-divisor", className: "catalogue-planner__value" }, [
        element("a", { href: base + "glossary/#expansion-divisor", text: "divisor" }), controls.divisor,
      ]),
    ]);
    return controls;
  }

  /** The models chooser: a checkbox per model, one per family, All and None; collapsed while every model is chosen. */
  function modelChooser(models, open) {
    const chooser = { boxes: new Map(), familyBoxes: new Map(), count: element("span", { className: "catalogue-planner__count" }) };
    chooser.all = element("button", { type: "button", className: "md-button", text: "All models" });
    chooser.none = element("button", { type: "button", className: "md-button", text: "None" });
    const rows = [];
    for (const [family, ids] of familiesOf(models)) {
      const familyBox = element("input", { type: "checkbox", "data-family": family, "aria-label": "every " + family + " model" });
      chooser.familyBoxes.set(family, familyBox);
      const chips = ids.map((id) => {
        const box = element("input", { type: "checkbox", value: id, "data-model": id });
        chooser.boxes.set(id, box);
        return element("label", { className: "catalogue-chip", title: id }, [box, element("span", { text: id.split("/").pop() })]);
      });
      rows.push(element("div", { className: "catalogue-planner__family" }, [
        element("label", { className: "catalogue-planner__family-name" }, [familyBox, element("span", { text: family })]), ...chips,
      ]));
    }
    chooser.box = element("details", { className: "catalogue-planner__models", open: open }, [
      element("summary", {}, [element("strong", { text: "Models" }), " ", chooser.count]),
      element("div", { className: "catalogue-planner__buttons" }, [chooser.all, chooser.none]),
      ...rows,
    ]);
    return chooser;
  }

  /** The rows as a table body and head (sortable), and the notes they carry, numbered as `catalogue plan` numbers them. */
  function fillResults(table, notesList, rows, chosen, base) {
    const notes = [];
    const cellClass = (column) => (PLANNER_COLUMNS[column][1] === "r" ? "catalogue-right" : null);
    const head = element("thead", {}, [element("tr", {}, PLANNER_COLUMNS.map(([name], column) => element("th", { className: cellClass(column), text: name })))]);
    const body = element("tbody", {}, rows.map((r, index) =>
      element("tr", { "data-model": r.model_id }, cellsOf({ model: chosen[index], row: r }, base, notes).map((content, column) =>
        element("td", { className: cellClass(column) }, [content])
      ))
    ));
    const sorted = table.dataset.sortColumn;
    table.replaceChildren(head, body);
    makeSortable(table);
    if (sorted !== undefined) sortTable(table, Number(sorted), table.dataset.sortDirection || "ascending");
    notesList.replaceChildren(...notes.map((r) => element("li", { text: r.model_id + ": " + r.note })));
  }

  /** The planner page: controls from the address, results on every change, the address kept up to date. */
  function planner(root) {
    const models = modelsById();
    const state = readState(new URLSearchParams(location.search), models);
    const base = siteBase();
    const controls = targetControls(base);
    const chooser = modelChooser(models, state.chosen.size !== models.size);
    const error = element("p", { className: "catalogue-planner__error", role: "alert", id: "planner-error" });
    const table = element("table", { className: "catalogue-planner__table", id: "planner-results" });
    const notesList = element("ol", { className: "catalogue-planner__notes", id: "planner-notes" });
    const commandLine = element("code", { id: "planner-command" });
    const commandBox = element("p", { className: "catalogue-planner__command" }, ["Same answer on the command line: ", commandLine]);
    root.append(
      element("form", { className: "catalogue-planner__form", onsubmit: "return false" }, [controls.box, chooser.box]),
      error,
      element("div", { className: "catalogue-planner__results" }, [table]),
      notesList,
      commandBox
    );

    function syncInputs() {
      controls.modeRatio.checked = state.mode === "ratio";
      controls.modePct.checked = state.mode === "pct";
      controls.target.value = state.target;
      controls.divisor.value = state.divisor;
      for (const [id, box] of chooser.boxes) box.checked = state.chosen.has(id);
      for (const [family, box] of chooser.familyBoxes) {
        const n = familiesOf(models).get(family).filter((id) => state.chosen.has(id)).length;
        box.checked = n === familiesOf(models).get(family).length;
        box.indeterminate = n > 0 && !box.checked;
      }
      const size = state.chosen.size;
      chooser.count.textContent = size === models.size ? "all " + size + " chosen" : size + " of " + models.size + " chosen";
    }

    function render() {
      history.replaceState(null, "", writeState(state, models) + location.hash);
      commandLine.textContent = command(state, models);
      const chosen = [...models.values()].filter((model) => state.chosen.has(model.model_id));
      const question = state.mode === "ratio" ? { ratio: state.target } : { pct: state.target };
      try {
        fillResults(table, notesList, plan(chosen, Object.assign(question, { divisor: state.divisor })), chosen, base);
        error.textContent = chosen.length ? "" : "Choose at least one model.";
        controls.target.removeAttribute("aria-invalid");
        commandBox.hidden = false;
      } catch (problem) {
        // No answer for an invalid target: the last one's table and command would be read as this one's.
        table.replaceChildren();
        notesList.replaceChildren();
        commandBox.hidden = true;
        error.textContent = problem.message;
        controls.target.setAttribute("aria-invalid", "true");
      }
    }

    function update() {
      syncInputs();
      render();
    }

    function choose(ids, on) {
      for (const id of ids) on ? state.chosen.add(id) : state.chosen.delete(id);
      update();
    }

    controls.modeRatio.addEventListener("change", () => { state.mode = "ratio"; if (state.target === "40") state.target = "2.4"; update(); });
    controls.modePct.addEventListener("change", () => { state.mode = "pct"; if (state.target === "2.4") state.target = "40"; update(); });
    controls.target.addEventListener("input", () => { state.target = controls.target.value; render(); });
    controls.divisor.addEventListener("change", () => { state.divisor = controls.divisor.value; update(); });
    for (const [id, box] of chooser.boxes) box.addEventListener("change", () => choose([id], box.checked));
    for (const [family, box] of chooser.familyBoxes) box.addEventListener("change", () => choose(familiesOf(models).get(family), box.checked));
    chooser.all.addEventListener("click", () => choose(models.keys(), true));
    chooser.none.addEventListener("click", () => choose(models.keys(), false));
    update();
    root.dataset.ready = "true";
  }

  // --- tables: sort by any column, filter long ones ------------------------------------------

  const FILTER_ABOVE_ROWS = 10;

  /** A cell's sort key: the number it starts with (separators, x, % and † ignored), else its text; "" and — last. */
  function sortKey(cell) {
    const text = (cell.dataset.sort !== undefined ? cell.dataset.sort : cell.textContent).trim();
    if (text === "" || text === "—") return { kind: 2, value: 0 };
    const number = /^[+-]?\d+(?:\.\d+)?(?:e[+-]?\d+)?/i.exec(text.replace(/,/g, ""));
    return number ? { kind: 0, value: Number(number[0]) } : { kind: 1, value: text.toLowerCase() };
  }

  function compareKeys(a, b) {
    if (a.kind !== b.kind) return a.kind - b.kind;
    if (a.kind === 1) return a.value.localeCompare(b.value);
    return a.value - b.value;
  }

  function sortTable(table, column, direction) {
    const body = table.tBodies[0];
    if (!body) return;
    const rows = [...body.rows].map((tableRow, index) => ({ tableRow, index, key: sortKey(tableRow.cells[column] || tableRow) }));
    const sign = direction === "descending" ? -1 : 1;
    rows.sort((a, b) => {
      const order = compareKeys(a.key, b.key);
      if (a.key.kind === 2 || b.key.kind === 2) return order || a.index - b.index; // blanks stay last
      return sign * order || a.index - b.index;
    });
    body.append(...rows.map((item) => item.tableRow));
    [...table.tHead.rows[0].cells].forEach((th, index) => th.setAttribute("aria-sort", index === column ? direction : "none"));
    table.dataset.sortColumn = String(column);
    table.dataset.sortDirection = direction;
  }

  /** Headers sort their column on a click (or Enter): ascending, then descending. Links in a header still work. */
  function makeSortable(table) {
    if (!table.tHead || !table.tBodies.length || table.tBodies[0].rows.length < 2 || table.dataset.sortable) return;
    table.dataset.sortable = "true";
    [...table.tHead.rows[0].cells].forEach((th, column) => {
      th.setAttribute("aria-sort", "none");
      th.tabIndex = 0;
      th.title = "Sort by this column";
      const sort = () => sortTable(table, column, th.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending");
      th.addEventListener("click", (event) => {
        if (!event.target.closest("a")) sort();
      });
      th.addEventListener("keydown", (event) => {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          sort();
        }
      });
    });
  }

  function addFilter(table) {
    const rows = table.tBodies.length ? [...table.tBodies[0].rows] : [];
    if (rows.length <= FILTER_ABOVE_ROWS || rows[0].cells.length < 3) return; // not a field/value list
    const status = element("span", { className: "catalogue-filter__count", "aria-live": "polite" });
    const input = element("input", { type: "search", className: "catalogue-filter__input", placeholder: "Filter rows", "aria-label": "Filter the table's rows" });
    const box = element("div", { className: "catalogue-filter" }, [input, status]);
    const anchor = table.closest(".md-typeset__scrollwrap") || table;
    anchor.before(box);
    const show = () => {
      const words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      let shown = 0;
      for (const tableRow of rows) {
        const text = tableRow.textContent.toLowerCase();
        const match = words.every((word) => text.includes(word));
        tableRow.hidden = !match;
        shown += match ? 1 : 0;
      }
      status.textContent = words.length ? shown + " of " + rows.length + " rows" : rows.length + " rows";
    };
    input.addEventListener("input", show);
    show();
  }

  function tables() {
    for (const table of document.querySelectorAll("article table:not([class])")) {
      makeSortable(table);
      addFilter(table);
    }
  }

  // --- charts ------------------------------------------------------------------------------------
  // The records' charts (DATA.charts: a value per pruning level) and the outcomes' (DATA.outcome_charts:
  // a measure against the pruned expansion ratio, with each point's spread, level and record link) are
  // drawn by the same code; an outcome chart adds error bars, a log scale for perplexities and a click
  // that opens the hovered point's record.

  const charts = [];

  function palette() {
    return document.body.getAttribute("data-md-color-scheme") === "slate" ? "dark" : "light";
  }

  /** True for an outcome chart (a measure against the expansion ratio), false for a record chart. */
  function isOutcome(spec) {
    return spec.measure !== undefined;
  }

  /** A chart's data by name: the records' charts, then the outcomes'. */
  function chartSpec(name) {
    return DATA.charts[name] || (DATA.outcome_charts || {})[name];
  }

  /** A series' per-point field (spreads, pcts, links) aligned to the chart's x values; null where the series has none. */
  function alignedField(s, key, xs) {
    if (!s[key]) return null;
    const byX = new Map(s.points.map((point, index) => [point[0], s[key][index]]));
    return xs.map((x) => (byX.has(x) ? byX.get(x) : null));
  }

  /** True for an outcome chart with a change from baseline to show (a series with its 0 % point). */
  function hasChanges(spec) {
    return isOutcome(spec) && spec.series.some((s) => s.changes && s.changes.some((change, at) => change !== null && s.pcts[at] !== 0));
  }

  /** The chart as its view shows it: the values, or (``change``) each point's change from its series' baseline in %. */
  function viewed(spec, view) {
    if (view !== "change") return spec;
    return Object.assign({}, spec, {
      y_label: "Change from baseline (%)",
      log_y: false,
      series: spec.series.map((s) => {
        const kept = s.points.map((point, at) => at).filter((at) => s.changes[at] !== null);
        return Object.assign({}, s, {
          points: kept.map((at) => [s.points[at][0], s.changes[at]]),
          spreads: kept.map(() => null),
          pcts: kept.map((at) => s.pcts[at]),
          links: kept.map((at) => s.links[at]),
          sources: s.sources ? kept.map((at) => s.sources[at]) : undefined,
          changes: null,
        });
      }),
    });
  }

  /** uPlot's data and series for a chart of the site data, in the current palette. */
  function chartSetup(spec, colours) {
    const xs = [...new Set(spec.series.flatMap((s) => s.points.map((point) => point[0])))].sort((a, b) => a - b);
    const ys = spec.series.map((s) => {
      const byX = new Map(s.points.map((point) => [point[0], point[1]]));
      return xs.map((x) => (byX.has(x) ? byX.get(x) : null));
    });
    const dashes = DATA.styles.dashes;
    const n = colours.series.length;
    // A series may name its colour and line style (the speed-up chart draws a model's bound in its measured line's colour, dashed).
    const colourOf = (s, index) => colours.series[(s.colour ?? index) % n];
    const series = spec.series.map((s, index) => ({
      label: s.label,
      stroke: colourOf(s, index),
      dash: dashes[(s.dash ?? Math.floor(index / n)) % dashes.length],
      width: 2,
      spanGaps: true,
      points: { show: true, size: spec.categories ? 9 : 6, fill: colourOf(s, index) },
      // Single runs of a value another file gives as their mean (``line: false``) are points, not a line.
      ...(spec.categories || s.line === false ? { paths: () => null } : {}),
      spreads: alignedField(s, "spreads", xs),
      sources: alignedField(s, "sources", xs),
      files: s.files || null,
      pcts: alignedField(s, "pcts", xs),
      links: alignedField(s, "links", xs),
    }));
    const extra = [];
    if (spec.identity_label) extra.push({ label: spec.identity_label, values: xs.slice(), dash: [2, 3] });
    for (const [y, label] of spec.reference_lines || []) extra.push({ label: label, values: xs.map(() => y), dash: [7, 4] });
    for (const line of extra) {
      series.push({ label: line.label, stroke: colours.axes, dash: line.dash, width: 1.2, points: { show: false }, reference: true });
      ys.push(line.values);
    }
    return { xs, ys, series };
  }

  /** The y scale: linear, or logarithmic (perplexities); its range takes in the error bars of the series shown. */
  function yScale(spec, series) {
    return {
      distr: spec.log_y ? 3 : 1,
      log: 10,
      range: (u, dataMin, dataMax) => {
        let low = dataMin;
        let high = dataMax;
        series.forEach((s, index) => {
          if (!s.spreads || !u.series[index + 1].show) return;
          u.data[index + 1].forEach((y, at) => {
            const spread = s.spreads[at];
            if (y === null || spread === null) return;
            if (!spec.log_y || y - spread > 0) low = low === null ? y - spread : Math.min(low, y - spread);
            high = high === null ? y + spread : Math.max(high, y + spread);
          });
        });
        if (low === null || high === null) return spec.log_y ? [1, 10] : [0, 1];
        return spec.log_y ? uPlot.rangeLog(low, high, 10, true) : uPlot.rangeNum(low, high, 0.1, true);
      },
    };
  }

  /** Each shown point's spread as a vertical bar with caps, in its series' colour, clipped to the plot. */
  function drawSpreads(u, series) {
    const ctx = u.ctx;
    const ratio = window.devicePixelRatio || 1;
    const cap = 4 * ratio;
    ctx.save();
    ctx.beginPath();
    ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
    ctx.clip();
    ctx.lineWidth = 1.5 * ratio;
    series.forEach((s, index) => {
      if (!s.spreads || !u.series[index + 1].show) return;
      ctx.strokeStyle = s.stroke;
      ctx.beginPath();
      u.data[index + 1].forEach((y, at) => {
        const spread = s.spreads[at];
        if (y === null || spread === null) return;
        const x = u.valToPos(u.data[0][at], "x", true);
        const top = u.valToPos(y + spread, "y", true);
        const bottom = y - spread > 0 || u.scales.y.distr !== 3 ? u.valToPos(y - spread, "y", true) : u.bbox.top + u.bbox.height;
        ctx.moveTo(x, top);
        ctx.lineTo(x, bottom);
        ctx.moveTo(x - cap, top);
        ctx.lineTo(x + cap, top);
        ctx.moveTo(x - cap, bottom);
        ctx.lineTo(x + cap, bottom);
      });
      ctx.stroke();
    });
    ctx.restore();
  }

  /** The buttons that switch an outcome chart between its values and their change from baseline. */
  function viewButtons(container) {
    if (container.querySelector(".catalogue-chart__views")) return;
    const buttons = [["values", "Values"], ["change", "Change from baseline"]].map(([view, text]) =>
      element("button", { type: "button", text: text, className: "md-button", "aria-pressed": String((container.dataset.view || "values") === view) }));
    buttons.forEach((button, index) => button.addEventListener("click", () => {
      container.dataset.view = index ? "change" : "values";
      buttons.forEach((other, at) => other.setAttribute("aria-pressed", String(at === index)));
      const chart = charts.find((item) => item.container === container);
      if (chart) {
        charts.splice(charts.indexOf(chart), 1);
        chart.plot.destroy();
        chart.holder.remove();
      }
      drawChart(container);
    }));
    container.prepend(element("div", { className: "catalogue-chart__views", role: "group" }, buttons));
  }

  function drawChart(container) {
    const stored = chartSpec(container.dataset.chart);
    if (!stored || typeof uPlot === "undefined") return;
    if (hasChanges(stored)) viewButtons(container);
    const spec = viewed(stored, container.dataset.view);
    const colours = DATA.styles.palettes[palette()];
    const { xs, ys, series } = chartSetup(spec, colours);
    const width = Math.max(container.clientWidth, 240);
    const font = "12px " + getComputedStyle(document.body).fontFamily;
    const axis = (label) => ({
      label: label, stroke: colours.text, font: font, labelFont: font,
      grid: { stroke: colours.grid, width: 1 }, ticks: { stroke: colours.grid, width: 1 },
    });
    const tooltip = element("div", { className: "catalogue-chart__tooltip", role: "status", hidden: true });
    const outcome = isOutcome(spec);
    const xAxis = axis(spec.x_label);
    if (!outcome) xAxis.splits = () => spec.x_ticks;
    if (spec.categories) {
      xAxis.splits = () => spec.categories.map((_, index) => index);
      xAxis.values = (u, splits) => splits.map((index) => spec.categories[index] || "");
      xAxis.rotate = -40;
      xAxis.size = 150;
    }
    const options = {
      width: width,
      height: Math.round(Math.min(440, Math.max(260, width * 0.6))),
      scales: outcome
        ? { x: spec.categories ? { time: false, range: () => [-0.5, spec.categories.length - 0.5] } : { time: false }, y: yScale(spec, series) }
        : { x: { time: false } },
      series: [{ label: spec.x_label }].concat(series),
      axes: [xAxis, Object.assign(axis(spec.y_label), outcome ? { size: 72, values: (u, splits) => splits.map(tickText) } : { size: 56 })],
      legend: { show: true, live: false },
      cursor: { focus: { prox: 30 }, points: { size: 8 } },
      focus: { alpha: 0.3 },
      hooks: {
        setCursor: [(u) => showTooltip(u, spec, tooltip, series)],
        draw: outcome ? [(u) => drawSpreads(u, series)] : [],
      },
    };
    const holder = element("div", { className: "catalogue-chart__canvas" });
    container.append(holder);
    const plot = new uPlot(options, [xs].concat(ys), holder);
    plot.over.append(tooltip);
    plot.over.addEventListener("click", () => {
      if (!tooltip.hidden && tooltip.dataset.link) window.location.href = siteBase() + tooltip.dataset.link;
    });
    container.classList.add("catalogue-chart--live");
    container.dataset.palette = palette();
    charts.push({ container, plot, holder });
  }

  /** An outcome chart's y tick: six significant digits at most (``0.000265``, ``2500``), so small values keep theirs. */
  function tickText(value) {
    return value === null ? "" : pyGeneral(value, 6);
  }

  /** The tooltip's heading for the hovered x: ``40 % pruned``, or ``2.40x expansion ratio``. */
  function xText(spec, x) {
    if (spec.categories) return spec.categories[x];
    return isOutcome(spec) ? pyFixed(x, 2) + "x expansion ratio" : pyFixed(x, 0) + " % pruned";
  }

  /** One hovered point: ``0.3626 ± 0.0068 — Llama-3.2-1B, 40 % pruned`` (outcomes), ``2.40x — Llama-3.2-1B`` (records). */
  function pointText(spec, s, label, value, at) {
    if (!isOutcome(spec)) return pyFixed(value, 2) + spec.value_suffix + " — " + label;
    const spread = s.spreads ? s.spreads[at] : null;
    const pct = s.pcts ? s.pcts[at] : null;
    if (spec.y_label === "Change from baseline (%)") return (value > 0 ? "+" : "") + pyFixed(value, 1) + " % — " + label + (pct !== null ? ", " + pct + " % pruned" : "");
    return pyGeneral(value, spec.value_digits) + (spread !== null ? " ± " + pyGeneral(spread, spec.spread_digits) : "") +
      " — " + label + (pct !== null ? ", " + pct + " % pruned" : "") + sourcesText(s, at);
  }

  /** `` (a.json, a.csv)``: the files that state a point's value, where a series' points come from several. */
  function sourcesText(s, at) {
    const indices = s.sources ? s.sources[at] : null;
    return indices && s.files ? " (" + indices.map((index) => s.files[index]).join(", ") + ")" : "";
  }

  /** The tooltip: the hovered x, then every visible line within reach of the pointer, with its value. */
  function showTooltip(u, spec, tooltip, series) {
    const index = u.cursor.idx;
    if (index === null || index === undefined || u.cursor.left < 0) {
      tooltip.hidden = true;
      return;
    }
    const x = u.data[0][index];
    const near = [];
    for (let s = 1; s < u.series.length; s++) {
      const value = u.data[s][index];
      if (!u.series[s].show || value === null || (series[s - 1] && series[s - 1].reference)) continue;
      const distance = Math.abs(u.valToPos(value, "y") - u.cursor.top);
      near.push({ s, value, distance });
    }
    near.sort((a, b) => a.distance - b.distance);
    const hits = near.filter((item) => item.distance <= 12);
    const shown = hits.length ? hits : near.slice(0, 1);
    if (!shown.length) {
      tooltip.hidden = true;
      return;
    }
    const first = series[shown[0].s - 1];
    const link = first.links ? first.links[index] : null;
    tooltip.dataset.link = link || "";
    u.over.style.cursor = link ? "pointer" : "";
    tooltip.replaceChildren(
      element("strong", { text: xText(spec, x) }),
      ...shown.map((item) => element("div", {}, [
        element("span", { className: "catalogue-chart__swatch", style: "background:" + series[item.s - 1].stroke }),
        pointText(spec, series[item.s - 1], u.series[item.s].label, item.value, index),
      ])),
      ...(link ? [element("div", { className: "catalogue-chart__hint", text: "Click to open its record" })] : [])
    );
    tooltip.hidden = false;
    const left = u.valToPos(x, "x");
    const top = u.valToPos(shown[0].value, "y");
    const wide = left > u.over.clientWidth / 2;
    tooltip.style.left = wide ? "" : left + 12 + "px";
    tooltip.style.right = wide ? u.over.clientWidth - left + 12 + "px" : "";
    tooltip.style.top = Math.max(0, top - 12) + "px";
  }

  function redrawCharts() {
    for (const chart of charts.splice(0)) {
      chart.plot.destroy();
      chart.holder.remove();
      drawChart(chart.container);
    }
  }

  function chartsOnPage() {
    const containers = document.querySelectorAll(".catalogue-chart[data-chart]");
    if (!containers.length) return;
    containers.forEach(drawChart);
    new MutationObserver(() => {
      if (charts.some((chart) => chart.container.dataset.palette !== palette())) redrawCharts();
    }).observe(document.body, { attributes: true, attributeFilter: ["data-md-color-scheme"] });
    let width = window.innerWidth;
    window.addEventListener("resize", () => {
      if (window.innerWidth === width) return;
      width = window.innerWidth;
      for (const chart of charts) {
        const w = Math.max(chart.container.clientWidth, 240);
        chart.plot.setSize({ width: w, height: Math.round(Math.min(440, Math.max(260, w * 0.6))) });
      }
    });
  }

  // --- copy buttons on hashes ------------------------------------------------------------------

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    const area = element("textarea", { readonly: true, className: "catalogue-offscreen" });
    area.value = text;
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
    return Promise.resolve();
  }

  function copyButtons() {
    for (const code of document.querySelectorAll("code.catalogue-hash")) {
      const button = element("button", { type: "button", className: "catalogue-copy", title: "Copy the SHA-256", "aria-label": "Copy the SHA-256", text: "Copy" });
      button.addEventListener("click", () => {
        copyText(code.textContent.trim()).then(() => {
          button.textContent = "Copied";
          setTimeout(() => (button.textContent = "Copy"), 1500);
        });
      });
      code.after(button);
    }
  }

  // --- start ------------------------------------------------------------------------------------

  window.cataloguePlanner = { plan, expansionRatePct, pruningPct, pyFormat, pyFixed, pyGeneral, pyRepr, models: () => DATA.planner.models };
  // The charts drawn on this page ({container, plot}): what they plot, for tests and the curious.
  window.catalogueCharts = charts;

  function start() {
    if (!DATA) return;
    const root = document.getElementById("catalogue-planner");
    if (root) planner(root);
    tables();
    chartsOnPage();
    copyButtons();
    document.documentElement.dataset.catalogueReady = "true";
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
