"""Regenerate the sample ticket files: ``python samples/make_samples.py``.

Why a script and not just the data files: the samples must stay reproducible and reviewable. Every
ticket text below is hand-written (one per line, so lines are long on purpose); the script only
adds ids, customers, the planted duplicates and broken lines, and three very long tickets whose
bulk is a pasted log. The only randomness is a ``random.Random`` with a fixed seed, so running it
twice gives byte-identical files.

Ticket line format inside the blocks: ``<expected_priority> <channel> [!<given priority>] :: <text>``
where ``\\n`` and ``\\t`` in the text stand for a newline and a tab. CSV block lines are
``<label> <expected_priority> <given priority or -> :: <subject> :: <text>``.
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
JSONL_PATH = HERE / "tickets.jsonl"
CSV_PATH = HERE / "tickets.csv"
#: the same tickets installed with forge: `forge bench` reads them when given no input
PACKAGED_PATH = HERE.parent / "src" / "forge_cli" / "data" / "tickets.jsonl"
SEED = 20240611

CUSTOMERS: tuple[str, ...] = (
    "acme-robotics",
    "blue-finch-labs",
    "kawa-logistics",
    "marlin-retail",
    "nordlicht-gmbh",
    "orbit-analytics",
    "quarry-bank",
    "solis-energy",
    "tessel-ai",
    "veridian-health",
    "harbor-freight-ai",
    "lumen-clinics",
    "pinecrest-edu",
    "redwood-games",
    "sable-insurance",
)

SOFTWARE_ISSUE = r"""
high chat :: SDK throws SSLError on every request since this morning
high web !urgent :: After upgrading forge-sdk from 2.8.1 to 2.9.0 our worker no longer starts:\n\nTraceback (most recent call last):\n  File "/app/worker.py", line 3, in <module>\n    from forge_sdk import Client, RetryPolicy\nImportError: cannot import name 'RetryPolicy' from 'forge_sdk' (/usr/local/lib/python3.11/site-packages/forge_sdk/__init__.py)\n\nThe changelog doesn't mention RetryPolicy being removed. Pinning 2.8.1 for now.
medium web :: The inference API returns 502 Bad Gateway intermittently, roughly 1 in 20 calls. Retrying usually works. Request ids: req_8812ab, req_8813f0.
high email !urgent :: Your dashboard has been broken for THREE DAYS. Every time I click "Jobs" I get a spinner and then "Something went wrong". I have reported this twice already and nobody answered. We are paying customers, fix it!!!
high email :: Hello support,\n\nour Java service crashes on startup with the 4.1 client:\n\nException in thread "main" java.lang.NullPointerException: Cannot invoke "String.length()" because "this.baseUrl" is null\n\tat ai.forge.client.ForgeClient.buildUri(ForgeClient.java:212)\n\tat ai.forge.client.ForgeClient.<init>(ForgeClient.java:88)\n\tat com.example.triage.App.main(App.java:31)\n\nWe do set FORGE_BASE_URL in the environment. Worked with 4.0.3.\n\nRegards,\nDaniel Ortmann\nPlatform Team
medium web :: Getting this in our Node service when the response is a batch:\n\nTypeError: Cannot read properties of undefined (reading 'choices')\n    at parseResult (/srv/app/node_modules/@forge/sdk/dist/index.js:412:31)\n\nCode:\n  const res = await forge.classify({ items, labels });\n  console.log(res.results.length);\n\nSingle items work fine.
medium email :: Hi, the Forge Studio desktop installer stops at about 80% with error 0x8007045D and rolls back. Other installers work on this laptop and the disk checks out fine (chkdsk clean). Windows 11 23H2. Any idea?
high chat :: web console keeps failing with ERR_CONNECTION_RESET when I open the playground, other sites load fine
medium web :: Webhook signature verification fails for about half of the events. We compute HMAC-SHA256 over the raw body exactly like the docs say. Could the payload be re-serialised on your side before signing?
high email :: Good afternoon,\n\nsince Tuesday our users are stuck in a redirect loop when they log in through Okta SSO: /login -> /sso/callback -> /login ... The SAML response looks valid in the Okta logs. Nothing changed on our side.\n\nKind regards,\nIT department, Kawa Logistics
high chat :: forge CLI segfaults when I run `forge deploy --gpu a100` on ubuntu 22.04. Segmentation fault (core dumped). no other output
medium web :: Using AsyncClient inside FastAPI, after the first request we get "RuntimeError: Event loop is closed" on shutdown and sometimes during requests. Example:\n\nasync with forge.AsyncClient() as c:\n    r = await c.embed(texts)\n\nIs the client not meant to be shared?
medium web :: GET /v1/jobs?page=2 returns some of the same jobs as page=1 when new jobs are created between the calls. Looks like offset pagination without a stable cursor.
low web :: The usage chart in the dashboard shows yesterday's calls under today's date. I think it is using UTC instead of my browser timezone. Cosmetic, but confusing.
high email :: Hola, la API devuelve error 500 cada vez que enviamos archivos PDF de más de 5 páginas al endpoint de extracción. Con archivos pequeños funciona. Es urgente para nosotros porque bloquea la facturación de nuestros clientes. Gracias.
medium email :: Hallo, das Dashboard lädt seit dem letzten Update nicht mehr richtig. Nach dem Login sehe ich nur die Fehlermeldung "Something went wrong" und die Browser-Konsole zeigt einen 404 für main.js. Viele Grüße, Jonas
medium email :: Hi, three things:\n1) the batch endpoint times out after 60s even for small batches\n2) is there a way to make the SDK retry only on 5xx?\n3) the link to the "Batching" page in the docs is a 404\nThanks!
high web :: The forge-runtime Docker image exits immediately on our Graviton nodes: "exec /usr/bin/forge-serve: exec format error". Is there an arm64 image? The tag says multi-arch.
high web :: Our forge-operator pod is in CrashLoopBackOff after upgrading the Helm chart to 0.14. Logs: "panic: runtime error: invalid memory address or nil pointer dereference" in reconcile.go:88.
medium chat :: the firmware updater app crashes right after "checking for updates" on windows, device itself is fine, I can't install the new firmware though
medium web :: The x-ratelimit-remaining header is always 0 even on the first request of the minute, so our client backs off for nothing. Requests themselves succeed.
medium chat :: "Regenerate API key" button does nothing. no error, no new key, tried chrome + safari
urgent email !urgent :: URGENT - our fine-tuning job failed at epoch 3 and afterwards the training dataset we uploaded (ds_7731) is gone from the project. We don't have another copy of the cleaned version. Please tell me it can be restored!
urgent email !urgent :: Production is down. All requests to https://api.forge.ai/v1/classify fail with 503 Service Unavailable since 14:02 CET. This affects all of our users. Please escalate immediately.
urgent web !urgent :: Security issue: when I open the Jobs page I can see job names and input previews from another company (tenant "orbit-analytics"). This looks like a data leak across accounts. Please investigate right away.
high web :: Memory leak in the Python SDK: our process grows by ~200 MB per hour when calling client.classify in a loop. tracemalloc points to forge_sdk/_transport.py:77 (the response cache keeps every response).
medium web :: Embeddings endpoint returns 400 "invalid input: could not tokenize" whenever the text contains emoji like 👍 or 🚀. Stripping them works but we'd rather not.
medium chat :: `forge login` just hangs in PowerShell, no browser window opens. works in WSL
medium web :: VS Code extension: "Extension host terminated unexpectedly 3 times within the last 5 minutes" as soon as I open a .py file with the Forge extension enabled. Disabling it fixes it.
high email !high :: Hi team, the iOS app crashes at launch since version 5.2 (iOS 17.4, iPhone 14). The crash log says: Fatal error: Unexpectedly found nil while unwrapping an Optional value. Reinstalling didn't help. Best, Ana
medium web :: The Slack integration stopped posting job notifications on Friday. The app is still installed and the test message button says "sent" but nothing arrives in the channel.
medium web :: Zapier trigger "New classification" fires twice for every result, so we get duplicate rows in our Google Sheet.
medium web :: Export to S3 fails with "AccessDenied: not authorized to perform s3:PutObject" although the bucket policy grants exactly that to the role in your docs. Other tools using the same role work.
low web :: In Jupyter the SDK's progress bar prints a new line on every update instead of refreshing in place, so a 10k batch floods the notebook. Minor.
high chat :: grpc client gets UNAVAILABLE: connection reset by peer after exactly 5 minutes on long streams
medium web :: client.batch() returns results in a different order than the inputs when some items are retried:\n\nres = client.batch(["a", "b", "c"])\nprint([r.input for r in res])  # ['b', 'c', 'a']\n\nThe docs say order is preserved.
high email !urgent :: Since the maintenance on Sunday the p99 latency of the classify endpoint went from ~300 ms to 8-9 seconds. p50 is unchanged. Our checkout flow times out because of this.
low web :: The quickstart example doesn't run: AttributeError: 'Client' object has no attribute 'complete'. I guess it was renamed to generate()? Please update the docs.
medium chat :: after updating the companion app to 2.3 the device pairing fails every time ("pairing timed out"). rolled back to 2.2 and it pairs instantly, so it's the app
high web :: Our model deployment "ticket-router-v2" has been stuck in "Provisioning" for 6 hours. Cancel doesn't work either. We need it for a demo tomorrow.
medium web :: Upload API rejects a 10 MB file with 413 Request Entity Too Large, but the docs say the limit is 100 MB.
medium web :: Calling the API from the browser gives "blocked by CORS policy: No 'Access-Control-Allow-Origin' header is present". We added our domain in allowed origins in settings. Is there a propagation delay?
medium email :: Hi, accented characters come back broken from the API: "café" becomes "cafÃ©" and "Müller" becomes "MÃ¼ller". Request is UTF-8 with the right content-type. Thanks, Élodie
low web :: The type hints in forge_sdk are wrong: Client.classify is annotated to return dict but it returns a ClassifyResponse object, so mypy complains everywhere.
high web :: The SDK retries POST /v1/jobs on timeout, which creates duplicate jobs (and duplicate charges for compute). Retries on non-idempotent calls should need an idempotency key.
low web :: logs page in the dashboard is blank in firefox 126, works in chrome
high phone :: Customer called, very upset: the dashboard logs them out every few minutes ("session expired") since this morning, the whole support team can't work in it. Chrome and Edge, cookies allowed.
high chat :: getting 401 Unauthorized with a key that worked yesterday. key is not revoked, not expired, shows active in dashboard
high email :: Fix your garbage CLI. Every single update wipes ~/.forge/config.toml and I have to set up all 4 profiles again. This is the third time this month.
medium email :: Bonjour, le SDK Python plante avec une MemoryError quand on envoie un lot de 2000 textes, alors que la documentation indique une limite de 10000. Pouvez-vous vérifier ? Merci, Julien
high email :: Hello sir, the api is giving error 504 gateway time out when we are sending the big request of 500 items, from last 2 days. Small request is working. Kindly do the needful and resolve asap as our team is blocked.
high web :: forge-runtime 1.8 container fails to start on our A10 nodes with "CUDA error 35: cudaErrorInsufficientDriver" although the host has driver 535. Version 1.7 starts fine on the same hosts.
medium web :: Scheduled batch jobs ran twice on Sunday night, I think the scheduler doesn't handle the daylight saving time change.
low web :: Search in ticket history doesn't find tickets by id, only by words in the subject.
high web :: Python 3.12 + forge-sdk 3.0:\n\n  File ".../forge_sdk/_compat.py", line 9, in <module>\n    from distutils.version import LooseVersion\nModuleNotFoundError: No module named 'distutils'\n\nCan't use the SDK at all on 3.12.
medium chat :: json mode: the API sometimes returns the response with ```json fences around it even though response_format is set, our parser chokes
high web :: Streaming endpoint drops the connection after ~30 seconds with "ERR_HTTP2_PROTOCOL_ERROR" in Chrome, long generations never finish.
medium email :: Hi Forge team,\n\nthe "Download results" button for completed batch jobs gives a zip that Windows says is corrupted ("The compressed (zipped) folder is invalid"). 7-Zip opens it with a CRC warning. Happened for the last 4 jobs.\n\nCheers,\nMaya
"""

HARDWARE_ISSUE = r"""
high email !high :: Hi,\n\nGPU 5 in our Forge 8x server (SN FX8-22109) is thermal throttling constantly. nvidia-smi shows 87°C and "HW Slowdown: Active" while the other seven sit at 65°C. Fan 3 seems to spin much slower than the others. Can you send a replacement fan module?\n\nThanks,\nRavi
high web !urgent :: dmesg is full of "NVRM: Xid (PCI:0000:41:00): 79, GPU has fallen off the bus." and afterwards nvidia-smi only lists 7 GPUs. Happens under load after ~2 hours. Reseating the card helped for one day.
high email :: Dear Forge support,\n\nthe Forge Edge device we received yesterday does not power on at all. No LEDs, no fan, nothing. We tried two different power adapters and outlets. The order number is 100-4471.\n\nBest regards,\nSofia Marquez
medium web :: The screen of the handheld unit arrived cracked in the top left corner. Packaging looked fine from the outside. Can we get a replacement?
high email !high :: Our storage server reports the RAID 6 array as degraded: disk in bay 7 shows "FAILED" in the controller and smartctl says "SMART overall-health self-assessment test result: FAILED!". Please ship a replacement drive.
high chat :: PSU on node gpu-07 is making a clicking sound and the node powers off randomly
high web :: Server room is at 21°C but the inference appliance reports inlet 38°C and GPU 92°C, then shuts down. All vents are clear, we checked airflow.
medium web :: The 100G NIC on node 4 keeps flapping link up/down (mlx5_core: Link down / Link up every few minutes). We replaced the cable and the switch port, same thing. Other nodes on the same switch are fine.
medium chat :: the power connector on the edge box is loose, if someone touches the cable the box reboots
urgent email !urgent :: The battery of one of our handheld scanners is visibly swollen and the case is bulging open. We took it out of service. Is it safe to store? How do we ship it back? We have 40 more of the same batch in the warehouse.
medium email :: Hello, the USB recovery stick that came with the appliance gives error 0x8007045D (I/O device error) when we try to copy the recovery image from it, on three different PCs. Looks like the stick itself is bad. Could you send a new one?
high web :: Training crashes with "RuntimeError: CUDA error: uncorrectable ECC error encountered" always on GPU 2 of server SN-55310. nvidia-smi -q shows Volatile Double Bit ECC Errors: 4 on that GPU only. Other GPUs are clean.
high web :: The BMC log shows "Memory Correctable ECC threshold exceeded - DIMM_A3" several times per day and yesterday an uncorrectable error took the node down.
low chat :: is it normal that the new box has a high pitched coil whine under load? works fine otherwise
high email :: Hallo zusammen,\n\nunser GPU-Server (Seriennummer FX4-10933) startet nicht mehr. Die Lüfter drehen kurz an, dann geht er sofort wieder aus. Netzteile haben wir schon getauscht. Was können wir tun?\n\nViele Grüße\nMarkus Brandt
high email :: Hola, el dispositivo Forge Edge se calienta muchísimo y se apaga solo después de unos 15 minutos de uso. Está en una oficina con aire acondicionado. ¿Pueden cambiarlo?
medium web :: The camera module on our vision device produces black frames about every 10th frame and the image has purple stripes at the bottom. Lens is clean, cable reseated.
medium web :: The 2U server arrived today with bent rails and a dented chassis corner, the shipping box was crushed. Photos attached. The server powers on but we don't trust it.
high web :: Requesting an RMA for unit SN FX8-20871: GPU 0 is dead (not detected in BIOS, not in lspci). We swapped it with GPU 1 slot and the fault moved with the card.
urgent email !urgent :: After a power event in our datacenter tonight 3 of our 8 GPU nodes will not come back up. They show no video output and the BMC is unreachable. This is our production inference cluster and we are running at less than half capacity. Please call me ASAP: +49 30 1234567.
medium web :: IPMI port on the new server has no link light at all, the normal NICs work. Tried different cables and switch ports.
high web :: nvidia-smi nvlink -s shows GPU 4 links 2 and 3 as inactive, and all-reduce bandwidth dropped by half. Started after we moved the server to another rack.
medium web :: The ethernet port on my Forge Edge stopped working (no link LED with any cable). Wi-Fi still works. Is this covered by the warranty? Bought 8 months ago.
high chat :: gpu 2 not detected after reboot
high email !urgent :: This is the THIRD replacement unit in a row that overheats and shuts down within an hour. Your hardware QA is a joke. I want a unit that actually works or our money back.
medium web :: One GPU runs 15°C hotter than its neighbour at the same load. Could the thermal paste have dried out? The server is 2 years old, still under extended warranty.
medium chat :: fans stuck at 100% since the last reboot, extremely loud, temps are normal
high web :: The system SSD suddenly went read-only ("EXT4-fs error ... Remounting filesystem read-only"). smartctl shows 1200 reallocated sectors. The appliance won't finish booting now.
medium phone :: Customer called: touchscreen on the kiosk unit is unresponsive in the lower third of the screen. Reboot and recalibration didn't help. Unit is in a store, wants a technician visit.
high web :: Power LED blinks red 4 times and the server won't boot. Manual says "check hardware", which part is it?
medium email :: Our edge device reboots randomly several times a day, even after a factory reset and plugged into a different outlet with a UPS. Logs show nothing before the reboot, it just goes dark.
medium web :: Two of the six microphones in the voice device array pick up nothing (flat line in the diagnostic tool). Started after the unit fell from a desk.
urgent email !urgent :: One of the disks in our on-prem appliance died last night and the second one in the mirror is throwing read errors now. We already lost the local feature store partition. Need a technician and replacement drives urgently, we are at risk of losing everything on it.
high email :: Bonjour, le ventilateur de notre serveur GPU fait un bruit très fort depuis hier et la température des cartes dépasse 90 °C. Nous avons arrêté la machine par précaution. Pouvez-vous envoyer un technicien ? Merci
high web :: The box arrived crushed and the GPU card inside is visibly bent, one of the power connectors is snapped off. We did not power it on.
medium chat :: the HDMI out on the dev kit only does 720p now and flickers. tried 3 cables
"""

MODEL_QUALITY = r"""
medium email :: Hi,\n\nwe asked the model for references on lithium battery recycling and it gave us five papers with DOIs. None of them exist, the DOIs resolve to unrelated articles or nothing. Our analysts almost put them in a client report. Is there a setting to stop the model from inventing citations?\n\nBest,\nHannah
medium chat :: model says 17 * 24 = 418. it's 408. happens a lot with multiplication
high email !high :: We use your model to pre-screen job applications and noticed it scores identical CVs lower when the name is female (tested 50 pairs, average -0.8 points). This is a serious bias problem for us and probably a legal one. Please advise urgently.
medium web :: Quality regressed after last week's model update: our eval set of 400 support questions went from 86% correct to 71% with the same prompt and temperature 0. Can we pin the previous version?
medium web :: The ticket classifier labels almost everything that mentions "password" as security_incident, even "how do I change my password". Accuracy on our validation set dropped a lot for that class.
medium email :: Hello, the summaries from the summarisation endpoint often leave out the most important part of the document (the decision or action item) and instead repeat the introduction. Example doc id 5521 attached. Thanks, Greta
medium chat :: the assistant replies in english when users write in dutch, even with "answer in the user's language" in the system prompt
medium web :: The model gets stuck in a loop and repeats the same paragraph 10-15 times until it hits max tokens. Happens with maybe 1 in 50 long prompts.
medium web :: It refuses way too many harmless requests. "How do I kill a Python process" -> "I can't help with violence". Our developers are getting frustrated with these false refusals.
high email !urgent :: Your chatbot insulted one of our customers yesterday ("that's a stupid question, read the manual") in our support widget. Screenshot attached. We've disabled it. How did this get through the safety filters?
medium web :: The embedding model doesn't seem to understand our domain: "myocardial infarction" and "heart attack" have cosine similarity 0.41, while "heart attack" and "heart rate" have 0.83. Search relevance is poor.
medium web :: The code assistant keeps suggesting methods that don't exist, e.g. pandas.DataFrame.to_markdown_table() and requests.get_json(). It invents APIs with full confidence.
medium web :: OCR model confuses 0 and O and 1 and l in serial numbers all the time, like FX8-2O1l9 instead of FX8-20119. Accuracy on our invoices is much worse than on the demo.
medium email :: Transcription quality is really bad for speakers with Scottish or Indian accents, word error rate around 35% vs 8% for US English on our calls. Is there an accent-robust model?
low web :: The translation of "I'm feeling blue" into French came out as "je me sens bleu". Idioms seem to be translated literally. Not critical.
medium chat :: asked the model who is the current CEO of our company and it named the one who left 2 years ago, and invents a product launch date
medium web :: Our fine-tuned model is worse than the base model on every metric we track (F1 0.72 vs 0.79). We used 20k labelled examples and the default hyperparameters. Is something wrong with the fine-tuning pipeline's output or our data?
medium web :: Temperature 0, same prompt, same model version, and we get different answers on consecutive calls (sometimes the category flips). We need deterministic outputs for audits.
high email !high :: Our support bot, powered by your model, told a customer they were entitled to a full refund within 90 days. Our policy is 30 days and it's written in the context we pass. It made up the policy and now the customer is demanding the refund. We need the model to stick to the provided documents.
high web :: The medical assistant answered that ibuprofen is safe to take with warfarin. That is wrong and potentially dangerous. We need to understand why it ignored the drug interaction data we provided.
low web :: Sentiment analysis marks sarcastic reviews like "Oh great, another update that breaks everything" as positive. Known limitation?
medium email :: Hola, el modelo inventa datos cuando le pedimos resúmenes de contratos: añade cláusulas y fechas que no están en el documento original. ¿Hay alguna forma de reducir estas alucinaciones?
medium email :: Guten Tag, die Antworten des Modells sind seit dem Update letzte Woche deutlich schlechter: oft falsch, oft am Thema vorbei. Mit der Vorversion hatten wir solche Probleme nicht. Können wir die alte Version wieder nutzen?
medium web :: The NER model tags "Apple" as an ORGANIZATION even in our grocery data ("apple, 2 kg") and misses most product names. Recall on our labelled set is 0.54.
low web :: Image generation: hands still come out with 6 or 7 fingers in about a third of the images, and any text in the image is gibberish.
high chat :: your model told our customer that our product supports offline mode and SSO. it supports neither. it keeps making up features
medium web :: We benchmarked the "large" model on MMLU with your recommended settings and got 71.2, your model card claims 78.5. Are the published numbers reproducible?
medium web :: The extraction model drops fields from the JSON it returns (e.g. "due_date" missing in ~10% of invoices) and sometimes invents an "iban" value that is not in the document.
medium web :: The model ignores instructions in the system prompt after a few turns, e.g. we say "never mention competitors" and by turn 4 it recommends a competitor's product.
medium email :: Hello, the safety filter blocks perfectly normal medical questions from our clinicians, like "dosage of morphine for post-op pain in adults", with "I can't help with that". False positives are ~15% of clinical queries for us.
high email :: Your AI is dumb as a rock. I asked it to sort 10 numbers and it got it wrong three times in a row, then apologised and got it wrong again. What exactly am I paying for?
medium phone :: Customer on the phone says the voice assistant on their kiosk misunderstands almost every order since last week's model update ("two lattes" becomes "two ladders"). Hardware tested fine, mic levels OK.
medium chat :: model keeps hallucinating
medium web :: Search ranking model relevance got worse: NDCG@10 on our judged queries went from 0.62 to 0.48 after you switched the default reranker.
medium web :: Precision of the spam classifier dropped 12 points since Monday without any change on our side. Lots of legitimate newsletters now flagged. Did the model change?
medium web :: The model confidently answers questions about our internal docs that are not in the retrieved context, instead of saying it doesn't know. Answers sound plausible but are wrong.
"""

BILLING = r"""
high email !high :: Hello,\n\nwe were charged twice for the May subscription ($1,490 on May 1st and again on May 2nd, same invoice number INV-2024-05-1182). Please refund the duplicate charge.\n\nThanks,\nAccounts Payable, Marlin Retail
medium web :: I'd like a refund for the Pro plan I bought yesterday by mistake, I meant to buy the Starter plan. I haven't used it.
medium email :: Hi, our invoice for April doesn't show our VAT ID (DE298374615) so our accounting can't process it. Can you reissue the invoice with the VAT number? Kind regards, Nordlicht GmbH Buchhaltung
low web :: If we upgrade from Team to Business in the middle of the month, how is that billed? Do we pay the full month twice?
high chat :: card declined when paying invoice, but the card works everywhere else. account says payment failed and features are locked
medium email :: Please cancel our subscription at the end of the current billing period and confirm in writing. We are moving to an internal solution. Thank you.
high web !urgent :: We got an overage charge of $3,212 for "additional inference tokens" this month. Our usage didn't change and we have a hard limit set in the dashboard. How could we go over the limit?
medium web :: I don't understand the proration on my last invoice, there are three lines with negative amounts and one with a positive amount for the same plan. Can someone explain?
medium email :: Hello, we are based in France and were charged in USD instead of EUR this month, so our bank added conversion fees. Our contract is in EUR. Can you fix the currency for future invoices and cover the fees?
low chat :: where can i download the invoice for march? need it for expenses
medium web :: We are a non-profit and tax exempt in the US. Where do I upload our exemption certificate so you stop charging sales tax? Can the tax from the last 3 invoices be refunded?
medium email :: Hi, the lease invoice for our 4 GPU servers lists 5 units. We only have 4 (SN FX8-2201 to FX8-2204). Please correct the invoice.
medium web :: The promo code LAUNCH50 was accepted at checkout but the invoice shows the full price. The 50% credit was never applied.
high email :: Our annual plan renewed automatically yesterday for $18,000. We had told our account manager in writing that we would not renew. Please reverse the charge.
high email !urgent :: You charged us $12,400 for a month where we barely used the API!!! Dashboard shows 3% of our quota. This is outrageous, I want an explanation and a refund TODAY or I'm disputing it with the bank.
high email :: Hola, me cobraron dos veces la suscripción de este mes en la tarjeta. Adjunto el extracto bancario. Por favor devuélvanme el cargo duplicado. Saludos, Lucía
medium email :: Guten Tag, bitte ändern Sie unsere Rechnungsadresse ab sofort auf: Solis Energy AG, Hafenstraße 12, 20457 Hamburg. Die nächste Rechnung soll bereits an die neue Adresse gehen. Danke!
medium email :: Bonjour, pourriez-vous nous envoyer la facture du mois de février au format PDF ? Nous ne la trouvons pas dans l'espace client. Merci d'avance.
medium web :: Our procurement requires a purchase order number on every invoice and net-45 payment terms. Can you set this up for our account before the next billing cycle?
low web :: Please change the billing contact for our organisation from tom@veridian-health.com to ap@veridian-health.com, Tom left the company.
high email :: My free trial was converted into a paid annual plan without any reminder e-mail. I did not agree to be charged $2,388. Please cancel and refund.
low chat :: my credit card expires next month, how do I update payment details?
high web !high :: There are three charges on our company card from "FORGE AI SUBSCR" that nobody on our team made. We only have one account with you. Please investigate these unauthorized charges.
high email :: We paid invoice INV-2024-0417 by wire transfer two weeks ago (reference attached) but the account still shows "overdue" and our API access got suspended this morning. Please fix, our service is affected.
low web :: Can I get receipts for each monthly payment instead of one invoice per quarter? Our expense tool needs them per charge.
medium web :: The bill says 48 million tokens, the usage page in the dashboard says 31 million for the same month. Which one is correct? We'd like the invoice to match the usage.
medium chat :: want to downgrade from business to pro mid-cycle, will i get a credit for the rest of the month?
low web :: Is there a discount coupon for upgrading to annual billing? The pricing page mentions "2 months free" but checkout doesn't show it.
high email :: If the duplicate charge from June is not refunded by Friday we will initiate a chargeback with our bank. This is the third email about it.
medium web :: We returned the defective edge device under RMA #88213 four weeks ago, you confirmed receipt, but the refund of $899 still hasn't arrived.
medium phone :: Customer called: she was charged for the Business plan although the account was downgraded to Pro in the portal last month. Wants the difference credited and a corrected invoice by e-mail.
medium web :: We are billed for 25 seats but deactivated 7 users last month. Shouldn't they drop off the bill?
medium chat :: need a refund
high web :: Paying the invoice through your payment link fails with "ERR_PAYMENT_DECLINED (code 51)" for two different corporate cards. The invoice is due tomorrow.
medium email :: Hi billing team, our finance department asks whether you can split the invoice across two cost centres (60/40). Is that possible? Thanks, Kim
medium web :: We were charged for the GPU reservation of 4x H100 for the full month, but the reservation was cancelled on the 10th (confirmation CX-5512). Please credit the remaining 20 days.
"""

OTHER = r"""
low web :: Feature request: please add a dark mode to the dashboard, my eyes hurt after a long day of triage.
low web :: It would be great if the batch export could write Parquet files, not only CSV and JSONL.
low email :: Hi all,\n\njust wanted to say thank you. We moved our ticket triage to Forge last month and the team saves about 20 hours a week. Great product and super friendly onboarding!\n\nBest,\nOlivia
low email :: Hello, we are planning to buy around 50 inference servers for a new datacenter in Q3. Could someone from sales contact me with pricing and lead times? Regards, Chen Wei, Procurement
low email :: Hi, I run a small consulting firm for AI in manufacturing and would love to explore a partnership / reseller agreement. Who is the right person to talk to?
low email :: Dear Sir/Madam, I am a highly motivated data scientist looking for opportunities. Please find my CV attached. I would be grateful for any opening in your company.
low web :: Boost your website ranking! We offer premium SEO backlinks at unbeatable prices. Reply for a free audit.
low chat :: forgot my password, how do i reset it?
medium email :: Under GDPR article 17 I request the deletion of my account and all personal data you hold about me. Please confirm once done. Account e-mail: p.novak@example.org
medium web :: Our account owner left the company. How do we transfer ownership of the organisation to another admin? She can't log in anymore.
low chat :: how do I invite team members to my project?
low web :: Where can I find documentation for the webhook payload format? The link on the integrations page goes to the general API reference.
low web :: Is there a public roadmap? We'd like to know if batch fine-tuning will come this year.
low email :: Hi Forge team, we are hosting an ML meetup in Lisbon in October and would love one of your engineers to give a talk. Let me know if you're interested!
medium email :: Hello, our security team sent you a vendor security questionnaire two weeks ago and needs it back before we can sign the contract. Could you also share your SOC 2 Type II report and pen-test summary? Thanks.
low web :: How long do you keep the inputs we send to the API? Is it used for training? We need this for our data protection impact assessment.
low web :: Do you offer an on-premises version of the platform for air-gapped environments?
low chat :: thanks!
low web :: test
low email :: Please unsubscribe me from all marketing emails. Thanks.
low web :: What is the uptime SLA on the Business plan and what credits apply if it is missed?
low web :: Could we get a demo of the ticket triage product for our support leadership team next week? We're a 300-agent support org.
low web :: Can we use the outputs of your model in a commercial product? Where can I read the license terms?
low web :: In which region is our data stored? We need EU-only processing.
low web :: Feature request: support for streaming responses in the batch API, so we can start processing results before the whole batch is done.
low web :: Would be nice to have a native Jira integration that creates issues from classified tickets.
medium email :: I've opened 3 tickets this week and got no answer on any of them. What is your expected response time? We are on the Business plan.
low email :: Hola, ¿ofrecen soporte técnico en español? Nuestro equipo prefiere comunicarse en español. Gracias.
low email :: Guten Tag, wir würden gerne eine Produktdemo für unser Team vereinbaren. Passt Ihnen nächste Woche Dienstag oder Mittwoch? Mit freundlichen Grüßen, Katrin Vogel
low email :: Bonjour, merci beaucoup pour votre aide rapide hier, tout fonctionne maintenant ! Bonne journée, Camille
low web :: Is the documentation available in Japanese? Some of our engineers would prefer it.
low web :: How can I rename our organisation in the dashboard? We rebranded from "Tessel" to "Tessel AI".
low email :: Hey! Do you have any stickers or swag? Our office wall of startup stickers is missing a Forge one :)
low web :: Onboarding feedback: the getting-started guide was clear, but it took us a while to find where to create an API key. Maybe put a link on the first page.
low chat :: how do i get started with the api? is there a python example?
medium chat :: my account is locked after too many login attempts, can you unlock it? i'm the admin
medium web :: We'd like to enable SAML SSO for our organisation. Is that available on the Team plan or only Enterprise, and how do we set it up?
low web :: Is there planned maintenance this weekend? We have a big batch scheduled for Saturday.
low email :: Could you share a couple of customer case studies from the logistics industry? Our leadership wants references before the pilot.
low email :: Hello, I'm a security researcher. Do you have a bug bounty or responsible disclosure program? I'd like to know the scope before testing anything.
low email :: We'd like to sponsor your user conference next spring. Could you send us the sponsorship packages?
medium email :: Hi, our procurement department needs you to fill in our new-supplier onboarding form before we can issue the contract. Attached. Who should we send it to?
low email :: I'm a reporter at TechWeekly writing a piece on AI hardware startups. Would your CTO be available for a 20 minute interview this week?
low web :: Where can I find the model card for the ticket classifier: training data, intended use, known limitations?
low phone :: Caller asked whether we have a partner program for universities and wanted the contact of someone in sales. Promised a call back.
low web :: Can I have a call with our account manager? We want to discuss expanding to more teams.
low web :: Do you have a referral program? I've recommended you to three other companies already.
low web :: What's the current lead time for the 8-GPU server if we order this month? Just planning, no order yet.
low email :: Your triage assistant is great, it saved our support team hours every day. Just wanted to share some love. 🙌
low web :: Feature request: could the classifier support Spanish and Portuguese tickets natively?
low web :: We are moving offices. Please update the shipping address for future hardware orders to: 55 Harbour Road, Dublin 2, Ireland.
low web :: Does the dashboard work with screen readers? One of our agents is blind and uses NVDA.
low chat :: hi is anyone there
low web :: Can I have two organisations under one login? I consult for two clients.
low web :: Please add an option to export the audit log. Our compliance team asks for it every quarter.
low email :: Hi! Quick question: what is the difference between "projects" and "workspaces" in your dashboard? The docs use both words. Thanks, Priya
"""

CSV_TICKETS = r"""
software_issue high high :: SDK crash on import :: Importing forge_sdk 3.1 on Alpine Linux fails:\nImportError: Error loading shared object libforge_tok.so: No such file or directory\nWorks on Debian images.
software_issue urgent urgent :: API down? :: All calls to /v1/embed return 500 Internal Server Error since 10:15 UTC. Production down for all of our users, please look at it now.
software_issue medium - :: Dashboard filter bug :: Filtering jobs by status "failed" also shows "cancelled" jobs, and the counter at the top is wrong.
software_issue high - :: Webhooks, retries and timeouts :: Our webhook endpoint returns 200 in under 100ms, but your side marks deliveries as "timed out" and retries them, so we process every event 3 times.
software_issue medium low :: CLI output :: `forge jobs list --json` prints a progress spinner into stdout, which breaks piping into jq.
software_issue high high :: Python client hangs :: client.classify() never returns when the server sends a 429 with Retry-After: 0. CPU goes to 100%, looks like a tight retry loop.
software_issue medium - :: Wrong content-type :: The /v1/export endpoint returns CSV data with Content-Type: application/json, so our HTTP client tries to parse it as JSON and fails.
software_issue high - :: Can't log in to the desktop app :: The desktop app shows "Login failed: invalid_grant" right after the browser says "You're logged in". Clock is synced. Version 2.4.1, macOS 13.
software_issue medium - :: Android app bug :: On Android 14 the app's notification for finished jobs opens an empty screen, and pressing back closes the app.
software_issue high - :: 400 errors after upgrade :: Since the API upgrade, requests with "labels": ["billing", "other"] return 400 "labels must be an object". The docs still show a list. Our integration is broken.
software_issue medium - :: SDK and proxies :: The Python SDK ignores the HTTPS_PROXY environment variable, so it can't reach the API from our corporate network. httpx directly works fine.
software_issue high - :: Terraform apply fails :: terraform apply fails with "Error: unexpected status 409 Conflict, resource already exists" for an endpoint that terraform itself created in the previous run.
software_issue medium - :: Unicode in CSV export :: CSV exports are written in Latin-1, so names like "Zoë" and "Łukasz" are garbled, please use UTF-8.
software_issue high - :: Stack trace in batch worker :: Traceback (most recent call last):\n  File "batch.py", line 44, in run\n    for r in client.stream_batch(job_id):\n  File "forge_sdk/batch.py", line 210, in stream_batch\n    yield Result(**row)\npydantic_core._pydantic_core.ValidationError: 1 validation error for Result\nscore\n  Input should be a valid number [type=float_type, input_value=None]
software_issue medium - :: Status page is lying :: The playground has been returning "Error: upstream connect error or disconnect/reset before headers" for an hour, while the status page says all systems operational.
hardware_issue high high :: GPU overheating :: GPU 1 in server SN FX4-30021 hits 94°C and throttles within minutes of starting a job. The fans are running but airflow feels weak on that side.
hardware_issue urgent urgent :: Node dead, production impact :: Our main inference node lost both power supplies (PSU fault LEDs on), the whole node is down and we are serving from a single backup machine. Need replacement PSUs today.
hardware_issue medium - :: Noisy fan :: One of the chassis fans rattles, sounds like a bearing going. Everything still works, temps OK.
hardware_issue high - :: Device won't charge :: The handheld doesn't charge anymore, neither with the dock nor with the USB-C cable. Battery at 0%, shows the red LED for a second, then nothing.
hardware_issue medium - :: Dead pixels, flicker :: The display of the kiosk unit has a column of dead pixels, about 2 cm from the left edge, appeared last week.
hardware_issue high - :: Disk errors :: Kernel log: "blk_update_request: I/O error, dev nvme1n1, sector 88122" repeating, and the drive disappears from lsblk after a few hours of load.
hardware_issue medium - :: Wrong power cable :: The servers came with US power cords, we are in Germany (C13 to Schuko needed). Can you send the right cables?
hardware_issue high - :: GPU memory errors :: cuda-memcheck and our burn-in test report "CUDA error 214: uncorrectable ECC error" on GPU 6 only. The other seven GPUs pass.
hardware_issue medium - :: Overheating edge device :: The Forge Edge in our outdoor enclosure shuts down on sunny afternoons (case temperature 70°C). Is there a rated operating temperature, or is the unit faulty?
hardware_issue high - :: Server does not boot after RAM upgrade :: We installed the 4 extra DIMMs you shipped and now the server beeps 3 times and doesn't POST. With the old memory it boots.
hardware_issue medium - :: Loose USB port :: The USB-C port on the dev kit is loose, the cable falls out if you touch it and the board resets.
model_quality medium - :: Invented numbers in summaries :: The summaries of our quarterly reports contain revenue figures that are not in the source, e.g. "revenue grew 14%" when the report says 4%.
model_quality high high :: Biased outputs :: The loan pre-screening assistant gives systematically lower scores to applicants from certain postcodes, even with identical income. We need to understand this bias before regulators do.
model_quality medium - :: Wrong language :: Answers come back in Spanish for Italian users about half of the time.
model_quality medium - :: Classifier accuracy dropped :: Our intent classifier went from 92% to 81% accuracy overnight. Same inputs, same model name. Was the model behind the alias updated?
model_quality low - :: Odd phrasing :: The generated product descriptions overuse the word "delve" and sound robotic. Can the style be more natural?
model_quality medium - :: Hallucinated API docs :: When developers ask the assistant about our own API it makes up endpoints that don't exist, like /v2/users/merge, and describes parameters we never had.
model_quality medium - :: Inconsistent labels :: The same email, sent twice an hour apart, got "complaint" the first time and "praise" the second time. Temperature is 0.
model_quality medium - :: Poor answers on long documents :: When the context is longer than ~30 pages, the answers ignore everything after the first few pages and are often wrong.
model_quality high - :: Harmful advice :: The assistant told a user to mix bleach and ammonia for "stronger cleaning". That is dangerous. How do we report this and make sure it doesn't happen again?
model_quality medium - :: Speech model errors :: The speech-to-text model keeps transcribing our product name "Forge" as "forage" or "fridge", even with the custom vocabulary set.
model_quality medium - :: Degraded after update :: Since v4.2 the model's answers are noticeably less accurate on our legal questions, it mixes up jurisdictions, which it did not do before.
billing high high :: Double charge :: We were billed twice for invoice INV-2024-0777, once by card and once by direct debit. Please refund one of the payments.
billing medium - :: VAT on invoice :: The invoice shows 19% VAT, but we are a business in Austria with a valid UID, so reverse charge should apply. Please correct the invoice.
billing medium - :: Question about charges :: Hi,\n\nwhy was I charged $49 on the 3rd when my plan is $39 per month? Is there a fee I don't know about?\n\nThanks, Ben
billing low - :: Annual plan :: How do I switch from monthly to annual billing, and is the unused part of this month credited?
billing high - :: Refund please :: I cancelled within the 14-day trial window, but the card was still charged $299. Please refund the payment.
billing medium - :: Invoice address :: Our invoices should go to finance@quarry-bank.com, not to my personal address. Also, please add "PO 77812" to the next one.
billing medium - :: Usage-based pricing confusion :: The pricing page says $0.40 per 1k items, but the invoice line says $0.55 per 1k items. Which price applies to our contract?
billing high - :: Account suspended for non-payment :: Our account was suspended for an unpaid invoice, but the invoice was sent to an old e-mail address, so we never received it. We've now paid it, please reactivate immediately, our agents can't work.
billing medium - :: Credit for outage :: Your outage last Tuesday lasted 4 hours, which breaks the 99.9% SLA. How do we claim the service credit on our next invoice?
billing low - :: Payment methods :: Can we pay by PayPal or only by card and wire transfer?
billing medium - :: Hardware lease payments :: We want to buy out the lease on our two GPU servers early. What would the remaining payment be, and will you send a final invoice?
other low - :: Feature idea :: It would be nice if we could tag tickets with custom colours in the dashboard, to group them by team.
other low - :: Thank you :: Just a big thank-you to Sam from your support team who stayed late to help us with the migration. Outstanding service.
other low - :: Sales question :: We're evaluating ticket triage tools for a 2,000-person company. Do you offer volume licensing, and can we get a quote?
other low - :: Docs :: Is there an offline copy of the documentation (PDF) we can give to our on-site team?
other medium - :: Account access :: I changed jobs and lost access to the e-mail on my Forge account, so I can't receive the login link. How can I recover the account?
other low - :: Certifications :: Are you ISO 27001 certified, and do you have HIPAA BAA available for healthcare customers?
other low - :: Integration request :: Please add a Zendesk app so agents can see the classification inside the ticket.
other low - :: Newsletter :: Stop sending me the weekly newsletter, I've clicked unsubscribe twice already.
other low - :: Partnership :: We build helpdesk software and would like to integrate your classifier as a built-in option. Is there a partner program, revenue share, etc.?
other low - :: Spam :: Dear Friend, I am contacting you regarding an inheritance of US$ 4.5 million from a late client with your surname...
other medium - :: Remove user :: A contractor's engagement ended, please remove j.doe@contractor.io from our organisation; I don't have admin rights to do it myself.
other low - :: Question on limits :: How many labels can I pass to the classify endpoint at most? And is there a maximum ticket length?
other low - :: Training question :: Hello,\ndo you offer training sessions for new users? We have 15 support agents starting next month, in Lyon, Porto and Leeds.\nBest regards,\nNadia
other low - :: Careers :: Are you hiring firmware engineers in Munich? I couldn't find the careers page.
"""


_ESCAPE = re.compile(r"\\([nt\\])")
_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\"}


def _unescape(text: str) -> str:
    return _ESCAPE.sub(lambda m: _ESCAPES[m.group(1)], text)


@dataclass
class Ticket:
    """One labelled ticket before it gets an id and a place in the file."""

    label: str
    expected_priority: str
    channel: str
    text: str
    given_priority: str | None = None
    field_name: str = "text"
    customer: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _parse_block(label: str, block: str) -> list[Ticket]:
    tickets: list[Ticket] = []
    for raw in block.strip().splitlines():
        head, text = raw.split(" :: ", 1)
        parts = head.split()
        prio, channel = parts[0], parts[1]
        given = next((p[1:] for p in parts[2:] if p.startswith("!")), None)
        tickets.append(Ticket(label, prio, channel, _unescape(text), given))
    return tickets


# --------------------------------------------------------------------------- long tickets
# The bulk of these is a pasted log or table; the human-written part at the top is what makes the
# label clear, exactly as in real tickets where someone pastes 2,000 lines of dmesg under a question.


def _long_hardware(rng: random.Random) -> Ticket:
    lines = [
        "Hi Forge support,",
        "",
        "as requested by your colleague on the phone, here is the full kernel log of node gpu-03 "
        "(server SN FX8-31877) from the last crash. Under sustained load the node loses one GPU "
        "after 1-3 hours: Xid 79, the card falls off the bus and only a cold power cycle brings "
        "it back. GPU temperature on that card climbs to 90°C+ shortly before, the others stay "
        "around 70°C. We already reseated the card and swapped the riser cable. We think the GPU "
        "or the riser/backplane is faulty and need a replacement part.",
        "",
        "---- dmesg ----",
    ]
    t = 1715600000.0
    temps = [68, 69, 70, 71]
    for i in range(320):
        t += rng.uniform(0.5, 40.0)
        gpu = rng.randrange(8)
        kind = rng.random()
        if kind < 0.55:
            lines.append(
                f"[{t - 1715590000:12.6f}] nvidia-smi: gpu{gpu} temp={temps[i % 4] + (gpu == 5) * (i // 15)}C "
                f"power={rng.randint(280, 395)}W sm_clock={rng.choice((1410, 1395, 1380))}MHz"
            )
        elif kind < 0.8:
            lines.append(
                f"[{t - 1715590000:12.6f}] pcieport 0000:40:01.{gpu % 4}: AER: Corrected error received: 0000:41:00.0"
            )
            lines.append(
                f"[{t - 1715590000:12.6f}] nvidia 0000:41:00.0: PCIe Bus Error: severity=Corrected, type=Physical Layer, (Receiver ID)"
            )
        elif kind < 0.95:
            lines.append(
                f"[{t - 1715590000:12.6f}] NVRM: GPU at PCI:0000:41:00: GPU-5c1e{i:04x}-thermal: slowdown active (HW)"
            )
        else:
            lines.append(
                f"[{t - 1715590000:12.6f}] NVRM: Xid (PCI:0000:41:00): 79, pid='<unknown>', name=<unknown>, GPU has fallen off the bus."
            )
    lines += [
        "---- end ----",
        "",
        "Can you ship a replacement GPU and riser for this server? It is one of our four production nodes.",
        "",
        "Thanks, Tomasz (infrastructure, Blue Finch Labs)",
    ]
    return Ticket("hardware_issue", "high", "email", "\n".join(lines), "urgent")


def _long_software(rng: random.Random) -> Ticket:
    lines = [
        "Hello,",
        "",
        "our nightly batch worker (forge-sdk 3.0.2, Python 3.11, Ubuntu 22.04) fails intermittently "
        "with a ConnectionResetError from inside the SDK and then the whole job aborts instead of "
        "retrying. Our network team sees no resets on our side. Full log of last night's run below, "
        "the traceback repeats several times. Is this a bug in the SDK's retry handling?",
        "",
    ]
    clock = 0
    for i in range(170):
        clock += rng.randint(1, 9)
        stamp = f"2024-05-14 02:{(clock // 60) % 60:02d}:{clock % 60:02d},{rng.randint(0, 999):03d}"
        n = rng.randint(8, 16)
        lines.append(f"{stamp} INFO  forge_sdk.batch: submitted pack {1000 + i} ({n} items)")
        lines.append(
            f'{stamp} DEBUG httpx: HTTP Request: POST https://api.forge.ai/v1/classify "HTTP/1.1 200 OK" ({rng.randint(180, 900)} ms)'
        )
        if i % 40 == 39:
            lines += [
                f"{stamp} ERROR forge_sdk.batch: pack {1000 + i} failed",
                "Traceback (most recent call last):",
                '  File "/usr/lib/python3.11/site-packages/httpcore/_sync/connection_pool.py", line 216, in handle_request',
                "    raise exc from None",
                '  File "/usr/lib/python3.11/site-packages/httpcore/_backends/sync.py", line 126, in read',
                "    return self._sock.recv(max_bytes)",
                "ConnectionResetError: [Errno 104] Connection reset by peer",
                "",
                "The above exception was the direct cause of the following exception:",
                "",
                "Traceback (most recent call last):",
                '  File "/srv/triage/worker.py", line 88, in run_batch',
                "    results = client.batch(chunk, labels=LABELS)",
                '  File "/usr/lib/python3.11/site-packages/forge_sdk/batch.py", line 301, in batch',
                "    return self._send_with_retry(req)",
                '  File "/usr/lib/python3.11/site-packages/forge_sdk/_retry.py", line 57, in _send_with_retry',
                "    raise ForgeConnectionError(str(exc)) from exc",
                "forge_sdk.errors.ForgeConnectionError: [Errno 104] Connection reset by peer",
            ]
    lines += ["", "Thanks for looking into it,", "Aylin, Data Platform, Veridian Health"]
    return Ticket("software_issue", "high", "email", "\n".join(lines))


def _long_billing(rng: random.Random) -> Ticket:
    lines = [
        "Dear billing team,",
        "",
        "we dispute the charges on invoice INV-2024-06-0091 ($41,877.20). We exported every line "
        "item of the invoice and compared it with our own metering. Rows marked MISMATCH are billed "
        "but were never used: the reservations were released on June 12 (confirmation RS-2291). "
        "Please issue a corrected invoice and a credit note for the difference; we will hold "
        "payment until then.",
        "",
        "date       | item                         | billed | metered | amount    | status",
    ]
    items = (
        ("gpu-hours H100 reserved", 3.9),
        ("gpu-hours A100 on-demand", 2.6),
        ("inference tokens (1M)", 0.55),
        ("storage GB-month", 0.02),
        ("dedicated endpoint hours", 1.2),
        ("support plan (prorated)", 0.9),
    )
    total = 0.0
    for day in range(1, 31):  # one month of daily line items
        for name, price in items:
            billed = round(rng.uniform(10, 200), 1)
            released = day > 12 and name.endswith("reserved")
            metered = 0.0 if released else billed
            amount = billed * price
            total += amount
            status = "MISMATCH" if released else "ok"
            lines.append(
                f"2024-06-{day:02d} | {name:<28} | {billed:6.1f} | {metered:7.1f} | ${amount:8.2f} | {status}"
            )
    lines += [
        "",
        f"Sum of exported lines: ${total:,.2f}",
        "",
        "Regards,",
        "Finance, Orbit Analytics",
    ]
    return Ticket("billing", "high", "email", "\n".join(lines), "high")


# --------------------------------------------------------------------------- assembly

_BLOCKS: tuple[tuple[str, str], ...] = (
    ("software_issue", SOFTWARE_ISSUE),
    ("hardware_issue", HARDWARE_ISSUE),
    ("model_quality", MODEL_QUALITY),
    ("billing", BILLING),
    ("other", OTHER),
)

#: the text-field fallback order a reader must handle; a few records use the later names
_ALT_FIELDS: tuple[str, ...] = ("body", "description", "message", "ticket", "body", "description")


def _near_duplicate(text: str, variant: int) -> str:
    """Same ticket as someone would paste it again: only case and whitespace differ."""
    if variant == 0:
        return text.upper()
    if variant == 1:
        return "  " + text.replace(" ", "  ", 3) + "\n"
    if variant == 2:
        return text.lower()
    if variant == 3:
        return text.replace(" ", "\t", 2) + "   "
    return "\n" + text.capitalize().replace(". ", ".  ")


def _unusable_lines(first_id: int) -> list[bytes]:
    """Lines no reader can turn into a ticket; each must end up as a failure, not a crash."""
    n = first_id
    return [
        # malformed JSON (unterminated string, missing brace)
        f'{{"id": "T-{n:04d}", "text": "The export button gives a 500 error when, "customer": "acme-robotics"'.encode(),
        # no text field under any of the accepted names
        json.dumps(
            {
                "id": f"T-{n + 1:04d}",
                "customer": "tessel-ai",
                "channel": "web",
                "subject": "GPU fan",
            }
        ).encode(),
        # empty text
        json.dumps(
            {"id": f"T-{n + 2:04d}", "text": "", "customer": "quarry-bank", "channel": "chat"}
        ).encode(),
        # invalid UTF-8 (Latin-1 bytes pasted into a UTF-8 file)
        b'{"id": "T-%04d", "text": "Die Rechnung f\xfcr M\xe4rz ist doppelt \xa9 \xff", "customer": "nordlicht-gmbh", "channel": "email"}'
        % (n + 3),
        # valid JSON but not an object
        b"[1, 2]",
        # whitespace only
        json.dumps(
            {"id": f"T-{n + 5:04d}", "text": "   \n\t  ", "customer": "redwood-games"}
        ).encode(),
    ]


def build_jsonl(rng: random.Random) -> list[bytes]:
    tickets = [t for label, block in _BLOCKS for t in _parse_block(label, block)]
    tickets += [_long_hardware(rng), _long_software(rng), _long_billing(rng)]
    rng.shuffle(tickets)
    for i, t in enumerate(tickets):
        t.customer = CUSTOMERS[rng.randrange(len(CUSTOMERS))]
        if i % 29 == 7:
            t.field_name = _ALT_FIELDS[(i // 29) % len(_ALT_FIELDS)]

    # exact duplicates: the same customer sends the same ticket again (new id, identical text)
    order: list[Ticket] = list(tickets)
    short = [t for t in tickets if len(t.text) < 2000]
    for k, src in enumerate(short[3:63:6]):
        dup = Ticket(**{**src.__dict__, "extra": {}})
        order.insert(order.index(src) + 1 + (k % 3) * 11, dup)
    # near duplicates: only case / whitespace differ
    for k, src in enumerate(short[70:120:10]):
        near = Ticket(**{**src.__dict__, "extra": {}})
        near.text = _near_duplicate(src.text, k)
        order.insert(order.index(src) + 5 + k, near)

    lines: list[bytes] = []
    middle = len(order) // 2
    for i, t in enumerate(order):
        if i == middle:
            bad = _unusable_lines(len(lines) + 1)
            lines += bad
        rec: dict[str, Any] = {"id": f"T-{len(lines) + 1:04d}", t.field_name: t.text}
        rec["customer"] = t.customer
        rec["channel"] = t.channel
        if t.given_priority:
            rec["priority"] = t.given_priority
        rec["label"] = t.label
        rec["expected_priority"] = t.expected_priority
        lines.append(json.dumps(rec, ensure_ascii=False).encode("utf-8"))
    return lines


def build_csv() -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", "subject", "text", "customer", "priority", "label", "expected_priority"])
    for i, raw in enumerate(CSV_TICKETS.strip().splitlines()):
        head, subject, text = raw.split(" :: ", 2)
        label, expected, given = head.split()
        writer.writerow(
            [
                f"C-{i + 1:04d}",
                subject,
                _unescape(text),
                CUSTOMERS[(i * 7) % len(CUSTOMERS)],
                "" if given == "-" else given,
                label,
                expected,
            ]
        )
    return out.getvalue()


def main() -> None:
    rng = random.Random(SEED)
    lines = build_jsonl(rng)
    JSONL_PATH.write_bytes(b"\n".join(lines) + b"\n")
    PACKAGED_PATH.write_bytes(JSONL_PATH.read_bytes())
    CSV_PATH.write_text(build_csv(), encoding="utf-8", newline="")
    print(f"wrote {len(lines)} lines to {JSONL_PATH.name} and {CSV_PATH.name}")


if __name__ == "__main__":
    main()
