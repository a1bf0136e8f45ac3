// The demo game studio's game server: an outside party that plays the studio's games for the
// platform's players and moves their money only through the provider seamless-wallet API.
export { startStudio } from './studio.ts';
export type { Studio, StudioLogger, StudioOptions, StudioRoundSnapshot } from './studio.ts';
export { studioCatalogue, studioGames, studioLaunchUrlTemplate } from './catalogue.ts';
export type { StudioCatalogueEntry, StudioGameInfo } from './catalogue.ts';
export { checkFaults, walletOperations } from './wallet-client.ts';
export type { StudioFaults, WalletOperation } from './wallet-client.ts';
export { defaultCurrencies } from './money.ts';
export type { CurrencyRules } from './money.ts';
