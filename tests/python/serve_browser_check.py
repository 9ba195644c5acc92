#!/usr/bin/python3
"""`lamina serve`'s page in a real headless browser: Debian's chromium, driven by python3-selenium
through chromium-driver. Over a folder holding trained runs, a search with pruned trials and a
run whose name is markup, it checks what a person would look at:
  - the run list has one row per run and search folder, and the markup name shows as text
    (no alert, no element made of it);
  - a run's accuracy chart holds exactly the points of its metrics.csv;
  - the search page's ranked table is results.csv, pruned trials marked;
  - a two-objective search's page: the Pareto scatter's front is results.csv's, the parallel
    coordinates draw a line per completed trial, the importance table is summary.json's;
  - the HParams page has a row per run and trial, sorts by a column and filters, and a
    parameter name of markup is text;
  - a training started during the test appears in the list and its chart grows, without the
    page being reloaded.
Usage: serve_browser_check.py LAMINA [--screenshot FILE.png]"""
import argparse
import csv
import json
import urllib.parse
import os
import pathlib
import re
import signal
import subprocess
import tempfile
import time

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

parser = argparse.ArgumentParser()
parser.add_argument("lamina")
parser.add_argument("--screenshot", help="where to save a picture of a run page (the README's)")
args = parser.parse_args()

MODEL = """name: {name}
data: {{source: fashion-mnist, train_limit: {limit}, test_limit: 200, validation_split: 0.2}}
layers: [{{type: affine, units: 32}}, {{type: relu}}, {{type: affine, units: 10}}]
loss: softmax_cross_entropy
optimizer: {{type: sgd, lr: 0.1}}
train: {{epochs: {epochs}, batch_size: 50}}
"""
SEARCH = """model:
  data: {source: fashion-mnist, train_limit: 400, test_limit: 100, validation_split: 0.25}
  layers: [{type: affine, units: 16}, {type: relu}, {type: affine, units: 10}]
  loss: softmax_cross_entropy
  optimizer: {type: sgd, lr: 0.1}
  train: {batch_size: 50}
space:
  optimizer.lr: {log_uniform: [1.0e-4, 1.0]}
  layers.0.units: {choice: [8, 16, 32]}
trials: 8
epochs: 3
pruning: {type: asha, min_epochs: 1, reduction: 2}
"""
FRONT = """model:
  data: {source: fashion-mnist, train_limit: 300, test_limit: 100, validation_split: 0.2}
  layers: [{type: affine, units: 16}, {type: relu}, {type: affine, units: 10}]
  loss: softmax_cross_entropy
  optimizer: {type: sgd, lr: 0.1}
  train: {batch_size: 50}
space:
  optimizer.lr: {log_uniform: [1.0e-3, 1.0]}
  layers.0.units: {int_uniform: [2, 600]}
enqueue: [{layers.0.units: 2, optimizer.lr: 0.1}, {layers.0.units: 600, optimizer.lr: 0.1}]
trials: 12
epochs: 2
objectives: [{metric: val_accuracy}, {measure: parameters, direction: minimize}]
"""


def lamina(*cmd):
    r = subprocess.run([args.lamina, *cmd], capture_output=True, text=True)
    assert r.returncode == 0, f"lamina {' '.join(cmd)}: {r.stdout}{r.stderr}"


def wait(what, predicate, seconds=60):
    end = time.time() + seconds
    while time.time() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def no_alert(driver):
    try:
        driver.switch_to.alert
    except NoAlertPresentException:
        return True
    return False


with tempfile.TemporaryDirectory() as d:
    d = pathlib.Path(d)
    runs = d / "runs"
    runs.mkdir()
    (d / "a.yaml").write_text(MODEL.format(name="alpha", limit=600, epochs=4))
    (d / "s.yaml").write_text(SEARCH)
    lamina("train", str(d / "a.yaml"), "--no-progress", "--out", str(runs / "alpha"))
    lamina("search", str(d / "s.yaml"), "--no-progress", "--out", str(runs / "sweep"))
    (d / "f.yaml").write_text(FRONT)
    lamina("search", str(d / "f.yaml"), "--no-progress", "--out", str(runs / "front"))
    # A search whose journal was crafted: a choice label of markup in its header reaches the
    # scatter's axis labels (dygraphs writes them with innerHTML) as text only.
    crafted = runs / "crafted"
    crafted.mkdir()
    for f in (runs / "sweep").iterdir():
        if f.is_file():
            (crafted / f.name).write_bytes(f.read_bytes())
    journal = (crafted / "journal.jsonl").read_text().split("\n", 1)
    header = json.loads(journal[0])
    assert "8, 16, 32" in header["fingerprint"], header
    header["fingerprint"] = header["fingerprint"].replace("8, 16, 32", "<img src=x onerror=alert(1)>, 16, 32")
    # ... and a parameter name of markup in its trials reaches the HParams table's header as text.
    trials = [json.loads(l) for l in journal[1].splitlines() if l]
    for t in trials:
        t["values"]["<img src=x onerror=alert(2)>"] = t["values"].pop("optimizer.lr")
    (crafted / "journal.jsonl").write_text(json.dumps(header) + "\n" + "".join(json.dumps(t) + "\n" for t in trials))
    # A run whose name and folder are markup: shown as text or not at all, never run.
    evil = runs / "<img src=x onerror=alert(1)>"
    evil.mkdir()
    for f in ("model.yaml", "metrics.csv"):
        (evil / f).write_bytes((runs / "alpha" / f).read_bytes())
    run_json = json.loads((runs / "alpha" / "run.json").read_text())
    run_json["name"] = "<script>alert(1)</script>"
    (evil / "run.json").write_text(json.dumps(run_json))

    server = subprocess.Popen([args.lamina, "serve", str(runs), "--port", "0"], stdout=subprocess.PIPE, text=True)
    trainer = None
    driver = None
    try:
        url = re.search(r"http://\S+", server.stdout.readline()).group(0)
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--disable-dev-shm-usage", f"--user-data-dir={d / 'chromium'}", "--window-size=1300,1000"):
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        driver.set_page_load_timeout(60)

        # The list: one row per folder, the markup name as text.
        start = time.time()
        driver.get(url)
        rows = wait("the list", lambda: driver.find_elements(By.CSS_SELECTOR, "#entries tbody tr")
                    if len(driver.find_elements(By.CSS_SELECTOR, "#entries tbody tr")) == 5 else None)
        print(f"list page with 5 entries drawn in {time.time() - start:.2f} s")
        ids = sorted(r.get_attribute("data-id") for r in rows)
        assert ids == sorted(["0/alpha", "0/sweep", "0/front", "0/crafted", "0/<img src=x onerror=alert(1)>"]), ids
        text = driver.find_element(By.ID, "entries").text
        assert "<script>alert(1)</script>" in text, text  # the run.json name, as text
        assert no_alert(driver)
        assert driver.execute_script("return document.querySelectorAll('img, main script').length") == 0
        # The unreadable-as-markup name in its own run page, as text too.
        driver.get(url + "#/run/" + "0%2F%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E")
        wait("the markup run's title", lambda: driver.find_element(By.TAG_NAME, "h1").text == "<script>alert(1)</script>")
        assert no_alert(driver)

        # A run: the accuracy chart has the points of metrics.csv.
        driver.get(url + "#/run/0%2Falpha")
        # The hash changes in the same document: wait for this run's title and its charts, not the
        # previous page's.
        wait("the accuracy chart", lambda: "alpha" in driver.find_element(By.TAG_NAME, "h1").text
             and driver.execute_script("return !!(window.lamina.charts['run-accuracy'] && window.lamina.charts['run-loss'])"))
        with open(runs / "alpha" / "metrics.csv") as f:
            metrics = list(csv.DictReader(f))
        # One chart per measure of metrics.csv, the metrics before the loss.
        headings = [h.text for h in driver.find_elements(By.CSS_SELECTOR, "[data-measure] > h2")]
        assert headings == ["accuracy", "loss"], headings
        assert driver.execute_script("return window.lamina.charts['run-loss'].getLabels().length") == 4
        chart = driver.execute_script(
            "const g = window.lamina.charts['run-accuracy']; const rows = [];"
            "for (let r = 0; r < g.numRows(); ++r) rows.push([0, 1, 2, 3].map(c => g.getValue(r, c)));"
            "return {labels: g.getLabels(), rows};")
        assert chart["labels"] == ["epoch", "train", "validation", "test"], chart["labels"]
        assert len(chart["rows"]) == len(metrics) == 4, chart
        for got, m in zip(chart["rows"], metrics):
            want = [float(m["epoch"]), float(m["train_accuracy"]), float(m["val_accuracy"]), float(m["test_accuracy"])]
            assert all(abs(a - b) < 1e-9 for a, b in zip(got, want)), (got, want)
        assert "alpha" in driver.find_element(By.TAG_NAME, "pre").text  # model.yaml

        # A search: the ranked table is results.csv; pruned trials are marked.
        driver.get(url + "#/search/0%2Fsweep")
        wait("the ranked table", lambda: len(driver.find_elements(By.CSS_SELECTOR, "#ranking tbody tr")) > 0)
        with open(runs / "sweep" / "results.csv") as f:
            results = list(csv.reader(f))
        # Read in one script: the page redraws the table as it polls, and elements found one call
        # earlier may be gone by the next.
        header, table = driver.execute_script(
            "const t = document.querySelector('#ranking');"
            "return [[...t.querySelectorAll('thead th')].map((e) => e.textContent),"
            " [...t.querySelectorAll('tbody tr')].map((r) => [...r.querySelectorAll('td')].map((e) => e.textContent))];")
        assert header == results[0], (header, results[0])
        assert len(table) == len(results) - 1, (len(table), len(results))
        for got, want in zip(table, results[1:]):
            for g, w in zip(got, want):
                # Every number keeps its magnitude: a learning rate of 3.4e-4 is not 0.000340.
                assert g == w or abs(float(g) - float(w)) <= 1e-5 * abs(float(w)), (got, want)
        statuses = [r[results[0].index("status")] for r in results[1:]]
        pruned_rows = driver.find_elements(By.CSS_SELECTOR, "#ranking tbody tr.pruned")
        assert len(pruned_rows) == statuses.count("pruned"), (len(pruned_rows), statuses)
        assert statuses.count("pruned") > 0, statuses
        assert driver.execute_script("return !!window.lamina.charts['scatter-optimizer.lr']")
        assert driver.execute_script("return window.lamina.charts['scatter-optimizer.lr'].getOptionForAxis('logscale', 'x')")
        # A log axis is labelled at the decades only, and a chart's legend is a line under it.
        ticks = driver.execute_script(
            "return [...document.getElementById('chart-scatter-optimizer.lr').querySelectorAll('.dygraph-axis-label-x')]"
            ".map((e) => e.textContent);")
        assert ticks and all(re.fullmatch(r"1e-?\d+", t) for t in ticks), ticks
        legend = driver.find_element(By.ID, "chart-scatter-optimizer.lr").find_element(By.CSS_SELECTOR, ".plot + .legend")
        assert "finished" in legend.text, legend.text

        # Two objectives: the front, the parallel coordinates, the importance.
        driver.get(url + "#/search/0%2Ffront")
        wait("the Pareto chart", lambda: driver.execute_script("return !!window.lamina.charts['pareto-parameters']"))
        with open(runs / "front" / "results.csv") as f:
            front_rows = list(csv.DictReader(f))
        members = sorted((int(r["parameters"]), float(r["val_accuracy"])) for r in front_rows if r["front"] == "true")
        drawn = driver.execute_script(
            "const g = window.lamina.charts['pareto-parameters'], out = [];"
            "for (let i = 0; i < g.numRows(); ++i) if (g.getValue(i, 1) !== null) out.push([g.getValue(i, 0), g.getValue(i, 1)]);"
            "return out;")
        assert sorted((int(p), round(a, 6)) for p, a in drawn) == [(p, round(a, 6)) for p, a in members], (drawn, members)
        # Sizes over two decades on a log axis, every point inside it (a padded log axis once
        # reached below zero and drew nothing).
        low, high = driver.execute_script("return window.lamina.charts['pareto-parameters'].xAxisRange()")
        assert 0 < low <= members[0][0] and high >= max(int(r["parameters"]) for r in front_rows), (low, high)
        ok = sum(r["status"] == "ok" for r in front_rows)
        lines = wait("the parallel coordinates", lambda: len(driver.find_elements(By.CSS_SELECTOR, "#parallel polyline")))
        assert lines == ok, (lines, ok)
        summary = json.loads((runs / "front" / "summary.json").read_text())
        importance = wait("the importance table", lambda: driver.execute_script(
            "return [...document.querySelectorAll('#importance tbody tr')].map((r) => [...r.querySelectorAll('td')].map((e) => e.textContent));"))
        want = sorted(summary["importance"]["values"].items(), key=lambda kv: -kv[1])
        assert [(n, float(v)) for n, v in importance] == [(n, round(v, 3)) for n, v in want], (importance, want)

        # HParams: a row per run and trial; sorted by a column; filtered; markup as text.
        driver.get(url + "#/hparams")
        expected_rows = 2 + sum(1 for n in ("sweep", "crafted", "front")
                                for l in (runs / n / "journal.jsonl").read_text().splitlines()[1:] if l)
        wait("the HParams table", lambda: len(driver.find_elements(By.CSS_SELECTOR, "#hparams tbody tr")) == expected_rows)
        heads = driver.execute_script("return [...document.querySelectorAll('#hparams thead th')].map((e) => e.textContent)")
        assert "<img src=x onerror=alert(2)>" in heads, heads
        assert not driver.find_elements(By.CSS_SELECTOR, "#hparams img")
        at = heads.index("val_accuracy")
        driver.find_elements(By.CSS_SELECTOR, "#hparams thead th")[at].click()  # a measure sorts best first
        column = driver.execute_script(
            f"return [...document.querySelectorAll('#hparams tbody tr')].map((r) => r.children[{at}].textContent)")
        values = [float(v) for v in column if v]
        assert values == sorted(values, reverse=True) and len(values) > 10, column
        box = driver.find_element(By.CSS_SELECTOR, ".tools input[type=search]")
        box.send_keys("front")
        wait("the filtered table", lambda: len(driver.find_elements(By.CSS_SELECTOR, "#hparams tbody tr")) == len(front_rows))
        assert no_alert(driver)

        # The markup-named run overlaid with alpha: its name reaches dygraphs' legend (written with
        # innerHTML) as text, never as an element.
        driver.get(url + "#/compare/" + urllib.parse.quote("0/alpha", safe="") + "," +
                   urllib.parse.quote("0/" + evil.name, safe=""))
        wait("the overlay chart", lambda: driver.execute_script("return !!window.lamina.charts['compare-accuracy']"))
        legend = driver.execute_script("return window.lamina.charts['compare-accuracy'].getLabels().join(' ')")
        assert "&lt;script&gt;" in legend, legend
        charts = driver.find_element(By.ID, "chart-compare-accuracy")
        assert not charts.find_elements(By.TAG_NAME, "script") and not charts.find_elements(By.TAG_NAME, "img")
        assert no_alert(driver)

        driver.get(url + "#/search/0%2Fcrafted")
        # Read in one script, once the crafted page drew its axis (the sweep page drew a chart of
        # the same name before): its text and whether any element was made of the label.
        axis = wait("the crafted search's scatter axis", lambda: driver.execute_script(
            "const d = document.getElementById('chart-scatter-layers.0.units');"
            "return d && d.textContent.includes('16') && d.textContent.includes('<img src=x')"
            " ? [d.textContent, d.querySelectorAll('img').length] : null;"))
        assert axis[1] == 0, axis
        assert no_alert(driver)

        # Live: a training started now appears in the list and grows, the page never reloaded.
        driver.get(url)
        wait("the list", lambda: len(driver.find_elements(By.CSS_SELECTOR, "#entries tbody tr")) == 5)
        driver.execute_script("window.__not_reloaded = true")
        # The trainer is held (SIGSTOP) at two moments so that what the page must show is there
        # to see, however fast this machine trains: live, and one epoch before the next.
        (d / "b.yaml").write_text(MODEL.format(name="beta", limit=12000, epochs=20))
        trainer = subprocess.Popen([args.lamina, "train", str(d / "b.yaml"), "--no-progress", "--threads", "1",
                                    "--out", str(runs / "beta")], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait("the trainer's .live marker", lambda: (runs / "beta" / ".live").exists(), seconds=120)
        os.kill(trainer.pid, signal.SIGSTOP)
        wait("the new run in the list", lambda: driver.find_elements(By.CSS_SELECTOR, "#entries tr[data-id='0/beta']"))
        wait("the live badge", lambda: driver.find_elements(By.CSS_SELECTOR, "#entries tr[data-id='0/beta'] .badge.live"))
        driver.find_element(By.CSS_SELECTOR, "#entries tr[data-id='0/beta'] a").click()  # a #fragment: no reload
        os.kill(trainer.pid, signal.SIGCONT)
        def epochs_in_file():  # metrics.csv appears with the first epoch's line or a little before
            f = runs / "beta" / "metrics.csv"
            return max(0, len(f.read_text().splitlines()) - 1) if f.exists() else 0
        wait("the first epoch", lambda: epochs_in_file() >= 1, seconds=300)
        os.kill(trainer.pid, signal.SIGSTOP)
        first = epochs_in_file()
        rows = lambda: driver.execute_script("const g = window.lamina.charts['run-accuracy']; return g ? g.numRows() : 0")
        wait(f"the chart's {first} points", lambda: rows() == first)
        os.kill(trainer.pid, signal.SIGCONT)
        wait("the chart to grow", lambda: rows() > first, seconds=300)
        assert driver.execute_script("return window.__not_reloaded === true")
        print(f"live run: the chart went from {first} to {rows()} epochs without a reload")
        if args.screenshot:
            trainer.wait(timeout=600)
            wait("the last epoch", lambda: rows() == 20, seconds=30)
            time.sleep(0.5)
            driver.save_screenshot(args.screenshot)
        assert no_alert(driver)
    finally:
        server.terminate()
        if trainer and trainer.poll() is None:
            os.kill(trainer.pid, signal.SIGCONT)
            trainer.kill()
            trainer.wait()
        if driver:
            driver.quit()
        assert server.wait(timeout=30) == 0
print("ok")
