// The signed-in operator and what the role may do: the page shows only the actions it allows
// (the server refuses the others with 403 anyway).
import { createContext, useContext } from 'react';
import type { Operator, OperatorSession } from './session.ts';

export interface BackOffice {
  readonly session: OperatorSession;
  readonly operator: Operator;
  readonly can: (action: string) => boolean;
}

export const BackOfficeContext = createContext<BackOffice | null>(null);

export function useBackOffice(): BackOffice {
  const value = useContext(BackOfficeContext);
  if (!value) throw new Error('useBackOffice outside the back office');
  return value;
}

export const base = '/backoffice';
