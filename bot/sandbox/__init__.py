"""The clinic sandbox: CareBridge between the Telegram and Slack stand-ins, played from one local web page.

`carebridge sandbox` (bot.cli.sandbox) serves the page; bot.sandbox.host runs the page server and the current
clinic day (bot.sandbox.day); bot.sandbox.api translates the page's clicks into the stand-ins' user side.
"""
