import { createHmac } from 'crypto';
import type {
	IDataObject,
	IExecuteFunctions,
	IHttpRequestMethods,
	IHttpRequestOptions,
	INodeExecutionData,
	INodeProperties,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

/** One Revgov operation: an HTTP call described as data, so a new operation is one row. */
interface Operation {
	resource: string;
	value: string;
	name: string;
	action: string;
	method: IHttpRequestMethods;
	path: string; // `{param}` placeholders are node parameters of the same name
	body?: 'json' | 'decision';
	query?: string[]; // the filters this operation accepts (Revgov rejects unknown query parameters)
	paginated?: boolean;
}

const OPERATIONS: Operation[] = [
	{ resource: 'partner', value: 'create', name: 'Apply', action: 'Create a partner application', method: 'POST', path: '/v1/partners', body: 'json' },
	{ resource: 'partner', value: 'get', name: 'Get', action: 'Get a partner', method: 'GET', path: '/v1/partners/{partnerId}' },
	{ resource: 'partner', value: 'getMany', name: 'Get Many', action: 'List partners', method: 'GET', path: '/v1/partners', query: ['status', 'tier'], paginated: true },
	{ resource: 'partner', value: 'addDocument', name: 'Add Document', action: 'File an onboarding document', method: 'POST', path: '/v1/partners/{partnerId}/documents', body: 'json' },
	{ resource: 'partner', value: 'addCertification', name: 'Add Certification', action: 'Record a certification', method: 'POST', path: '/v1/partners/{partnerId}/certifications', body: 'json' },
	{ resource: 'partner', value: 'submit', name: 'Submit', action: 'Submit an application for checks', method: 'POST', path: '/v1/partners/{partnerId}/submit' },
	{ resource: 'partner', value: 'entitlements', name: 'Get Entitlements', action: 'Get a partner s entitlements', method: 'GET', path: '/v1/partners/{partnerId}/entitlements' },
	{ resource: 'pricing', value: 'check', name: 'Check Quote', action: 'Check a quote against the pricing policy', method: 'POST', path: '/v1/pricing/check', body: 'json' },
	{ resource: 'deal', value: 'register', name: 'Register', action: 'Register a deal', method: 'POST', path: '/v1/deals', body: 'json' },
	{ resource: 'deal', value: 'get', name: 'Get', action: 'Get a deal registration', method: 'GET', path: '/v1/deals/{dealId}' },
	{ resource: 'deal', value: 'getMany', name: 'Get Many', action: 'List deal registrations', method: 'GET', path: '/v1/deals', paginated: true },
	{ resource: 'deal', value: 'withdraw', name: 'Withdraw', action: 'Withdraw a deal registration', method: 'POST', path: '/v1/deals/{dealId}/withdraw' },
	{ resource: 'approval', value: 'getMany', name: 'Get Many', action: 'List approvals', method: 'GET', path: '/v1/approvals', query: ['status', 'queue'], paginated: true },
	{ resource: 'approval', value: 'get', name: 'Get', action: 'Get an approval', method: 'GET', path: '/v1/approvals/{approvalId}' },
	{ resource: 'approval', value: 'decide', name: 'Decide', action: 'Approve or reject', method: 'POST', path: '/v1/approvals/{approvalId}/decision', body: 'decision' },
	{ resource: 'exception', value: 'getMany', name: 'Get Many', action: 'List exceptions', method: 'GET', path: '/v1/exceptions', query: ['status', 'queue'], paginated: true },
	{ resource: 'exception', value: 'get', name: 'Get', action: 'Get an exception', method: 'GET', path: '/v1/exceptions/{exceptionId}' },
	{ resource: 'exception', value: 'resolve', name: 'Resolve', action: 'Resolve or dismiss an exception', method: 'POST', path: '/v1/exceptions/{exceptionId}/resolve', body: 'decision' },
	{ resource: 'event', value: 'sendErp', name: 'Send ERP Events', action: 'Push signed ERP events', method: 'POST', path: '/v1/webhooks/erp', body: 'json' },
	{ resource: 'event', value: 'get', name: 'Get Status', action: 'Get what became of an event', method: 'GET', path: '/v1/events/{eventId}' },
	{ resource: 'invoice', value: 'getMany', name: 'Get Many', action: 'List invoices', method: 'GET', path: '/v1/invoices', query: ['status', 'period'], paginated: true },
	{ resource: 'invoice', value: 'get', name: 'Get', action: 'Get an invoice with its lines', method: 'GET', path: '/v1/invoices/{invoiceId}' },
	{ resource: 'invoice', value: 'finalize', name: 'Finalize', action: 'Finalize a draft invoice', method: 'POST', path: '/v1/invoices/{invoiceId}/finalize' },
	{ resource: 'rebate', value: 'accruals', name: 'Get Accruals', action: 'Get rebate accruals', method: 'GET', path: '/v1/rebates/accruals', query: ['partner_id', 'period'], paginated: true },
	{ resource: 'rebate', value: 'settle', name: 'Run Settlement', action: 'Run a rebate period close', method: 'POST', path: '/v1/rebates/settlements', body: 'json' },
	{ resource: 'rebate', value: 'getSettlement', name: 'Get Settlement', action: 'Get a settlement and its statements', method: 'GET', path: '/v1/rebates/settlements/{settlementId}' },
	{ resource: 'rebate', value: 'dispute', name: 'Open Dispute', action: 'Open a rebate dispute', method: 'POST', path: '/v1/rebates/disputes', body: 'json' },
	{ resource: 'rebate', value: 'getDispute', name: 'Get Dispute', action: 'Get a rebate dispute', method: 'GET', path: '/v1/rebates/disputes/{disputeId}' },
	{ resource: 'copilot', value: 'ask', name: 'Ask', action: 'Ask the contract copilot', method: 'POST', path: '/v1/copilot/ask', body: 'json' },
	{ resource: 'copilot', value: 'explain', name: 'Explain Decision', action: 'Explain a decision in words', method: 'GET', path: '/v1/decisions/{decisionId}/explain' },
];

const RESOURCES = [
	['partner', 'Partner'],
	['pricing', 'Pricing'],
	['deal', 'Deal'],
	['approval', 'Approval'],
	['exception', 'Exception'],
	['event', 'Event'],
	['invoice', 'Invoice'],
	['rebate', 'Rebate'],
	['copilot', 'Copilot'],
];

const ID_PARAMS: Array<[string, string]> = [
	['partnerId', 'Partner ID'],
	['dealId', 'Deal ID'],
	['approvalId', 'Approval ID'],
	['exceptionId', 'Exception ID'],
	['eventId', 'Event ID'],
	['invoiceId', 'Invoice ID'],
	['settlementId', 'Settlement ID'],
	['disputeId', 'Dispute ID'],
	['decisionId', 'Decision ID'],
];

const BODY_EXAMPLES: Record<string, string> = {
	'partner.create': '{\n  "legal_name": "Contour Networks LLC",\n  "partner_type": "reseller",\n  "requested_tier": "silver",\n  "terms": {"annual_commitment": "300000.00", "payment_terms_days": 30},\n  "contact": {"name": "Dana Reyes", "email": "dana@contour.example"}\n}',
	'copilot.ask': '{\n  "question": "What is the margin floor on a quote line?"\n}',
};

function operationsOf(resource: string): Operation[] {
	return OPERATIONS.filter((op) => op.resource === resource);
}

function where(predicate: (op: Operation) => boolean): Record<string, string[]> {
	const ops = OPERATIONS.filter(predicate);
	return { resource: [...new Set(ops.map((op) => op.resource))], operation: [...new Set(ops.map((op) => op.value))] };
}

function fieldsFor(): INodeProperties[] {
	const fields: INodeProperties[] = [
		{
			displayName: 'Resource',
			name: 'resource',
			type: 'options',
			noDataExpression: true,
			options: RESOURCES.map(([value, name]) => ({ name, value })),
			default: 'partner',
		},
	];
	for (const [resource] of RESOURCES) {
		fields.push({
			displayName: 'Operation',
			name: 'operation',
			type: 'options',
			noDataExpression: true,
			displayOptions: { show: { resource: [resource] } },
			options: operationsOf(resource).map((op) => ({ name: op.name, value: op.value, action: op.action })),
			default: operationsOf(resource)[0].value,
		});
	}
	for (const [param, label] of ID_PARAMS) {
		for (const resource of new Set(OPERATIONS.filter((op) => op.path.includes(`{${param}}`)).map((op) => op.resource))) {
			fields.push({
				displayName: label,
				name: param,
				type: 'string',
				required: true,
				default: '',
				displayOptions: {
					show: {
						resource: [resource],
						operation: operationsOf(resource).filter((op) => op.path.includes(`{${param}}`)).map((op) => op.value),
					},
				},
			});
		}
	}
	for (const op of OPERATIONS.filter((o) => o.body === 'json')) {
		fields.push({
			displayName: 'Body (JSON)',
			name: 'body',
			type: 'json',
			required: true,
			default: BODY_EXAMPLES[`${op.resource}.${op.value}`] ?? '{}',
			description: 'The request body as in the Revgov API reference (GET /v1/openapi.json); money as decimal strings',
			displayOptions: { show: { resource: [op.resource], operation: [op.value] } },
		});
	}
	const decision = where((op) => op.body === 'decision');
	fields.push(
		{
			displayName: 'Outcome',
			name: 'outcome',
			type: 'options',
			default: 'approved',
			options: [
				{ name: 'Approved', value: 'approved' },
				{ name: 'Rejected', value: 'rejected' },
				{ name: 'Resolved', value: 'resolved' },
				{ name: 'Dismissed', value: 'dismissed' },
			],
			description: 'Approvals: approved or rejected. Exceptions: resolved or dismissed.',
			displayOptions: { show: decision },
		},
		{ displayName: 'Note', name: 'note', type: 'string', default: '', displayOptions: { show: decision } },
	);
	const listing = where((op) => Boolean(op.query?.length));
	fields.push({
		displayName: 'Filters',
		name: 'filters',
		type: 'collection',
		placeholder: 'Add Filter',
		default: {},
		displayOptions: { show: listing },
		options: [
			{ displayName: 'Status', name: 'status', type: 'string', default: '' },
			{
				displayName: 'Queue',
				name: 'queue',
				type: 'options',
				default: 'finance',
				options: ['finance', 'channel_ops', 'legal', 'customer_success'].map((q) => ({ name: q, value: q })),
			},
			{ displayName: 'Tier', name: 'tier', type: 'string', default: '' },
			{ displayName: 'Period', name: 'period', type: 'string', default: '', placeholder: '2026-10 or 2026-Q3' },
			{ displayName: 'Partner ID', name: 'partner_id', type: 'string', default: '' },
		],
	});
	fields.push({
		displayName: 'Return All',
		name: 'returnAll',
		type: 'boolean',
		default: false,
		description: 'Whether to follow next_cursor until the last page, one item per object',
		displayOptions: { show: where((op) => Boolean(op.paginated)) },
	});
	return fields;
}

/** `t=<unix>,v1=<hex HMAC-SHA256 of "{t}.{raw body}">`, as Revgov's ERP webhook expects. */
export function signatureHeader(secret: string, timestamp: number, rawBody: string): string {
	const digest = createHmac('sha256', secret).update(`${timestamp}.${rawBody}`, 'utf8').digest('hex');
	return `t=${timestamp},v1=${digest}`;
}

function parseBody(context: IExecuteFunctions, value: unknown, item: number): IDataObject {
	if (typeof value === 'string') {
		try {
			return JSON.parse(value) as IDataObject;
		} catch (error) {
			throw new NodeOperationError(context.getNode(), `Body (JSON) is not valid JSON: ${(error as Error).message}`, {
				itemIndex: item,
			});
		}
	}
	return (value ?? {}) as IDataObject;
}

export class Revgov implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Revgov',
		name: 'revgov',
		icon: 'file:revgov.svg',
		group: ['transform'],
		version: 1,
		subtitle: '={{$parameter["operation"] + ": " + $parameter["resource"]}}',
		description: 'Partner onboarding, pricing checks, deals, approvals, ERP events, invoices, rebates and the contract copilot',
		defaults: { name: 'Revgov' },
		inputs: ['main'],
		outputs: ['main'],
		usableAsTool: true,
		credentials: [
			{ name: 'revgovApi', required: true, displayOptions: { hide: { operation: ['sendErp'] } } },
			{ name: 'revgovErpWebhookApi', required: true, displayOptions: { show: { operation: ['sendErp'] } } },
		],
		properties: fieldsFor(),
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const out: INodeExecutionData[] = [];
		const items = this.getInputData();
		for (let i = 0; i < items.length; i++) {
			const resource = this.getNodeParameter('resource', i) as string;
			const operation = this.getNodeParameter('operation', i) as string;
			const op = OPERATIONS.find((o) => o.resource === resource && o.value === operation);
			if (!op) throw new NodeOperationError(this.getNode(), `Unknown operation ${resource}.${operation}`);
			try {
				const results = op.value === 'sendErp' ? [await sendErp.call(this, op, i)] : await call.call(this, op, i);
				for (const json of results) out.push({ json, pairedItem: { item: i } });
			} catch (error) {
				if (this.continueOnFail()) {
					out.push({ json: { error: (error as Error).message, ...((error as NodeApiError).context ?? {}) }, pairedItem: { item: i } });
					continue;
				}
				throw error;
			}
		}
		return [out];
	}
}

async function call(this: IExecuteFunctions, op: Operation, i: number): Promise<IDataObject[]> {
	const credentials = await this.getCredentials('revgovApi');
	const baseUrl = String(credentials.baseUrl).replace(/\/$/, '');
	const path = op.path.replace(/\{(\w+)\}/g, (_, name: string) =>
		encodeURIComponent(String(this.getNodeParameter(name, i)).trim()),
	);
	const qs: IDataObject = {};
	if (op.query) {
		const filters = this.getNodeParameter('filters', i, {}) as IDataObject;
		for (const name of op.query) if (filters[name] !== undefined && filters[name] !== '') qs[name] = filters[name];
	}
	const options: IHttpRequestOptions = { method: op.method, url: `${baseUrl}${path}`, qs, json: true };
	if (op.body === 'json') options.body = parseBody(this, this.getNodeParameter('body', i), i);
	if (op.body === 'decision') {
		const note = this.getNodeParameter('note', i, '') as string;
		options.body = { outcome: this.getNodeParameter('outcome', i), ...(note ? { note } : {}) };
	}
	const request = async (extra: IDataObject = {}): Promise<IDataObject> => {
		try {
			return (await this.helpers.httpRequestWithAuthentication.call(this, 'revgovApi', {
				...options,
				qs: { ...qs, ...extra },
			})) as IDataObject;
		} catch (error) {
			throw new NodeApiError(this.getNode(), error as never, { itemIndex: i });
		}
	};
	if (!op.paginated) return [await request()];
	const returnAll = this.getNodeParameter('returnAll', i, false) as boolean;
	let page = await request(returnAll ? { limit: 200 } : {});
	if (!returnAll) return [page];
	const all: IDataObject[] = [...((page.items as IDataObject[]) ?? [])];
	while (page.next_cursor) {
		page = await request({ limit: 200, cursor: page.next_cursor });
		all.push(...((page.items as IDataObject[]) ?? []));
	}
	return all;
}

async function sendErp(this: IExecuteFunctions, op: Operation, i: number): Promise<IDataObject> {
	const credentials = await this.getCredentials('revgovErpWebhookApi');
	const raw = JSON.stringify(parseBody(this, this.getNodeParameter('body', i), i));
	const timestamp = Math.floor(Date.now() / 1000);
	try {
		return (await this.helpers.httpRequest({
			method: op.method,
			url: `${String(credentials.baseUrl).replace(/\/$/, '')}${op.path}`,
			body: raw,
			json: false,
			headers: {
				'Content-Type': 'application/json',
				'Revgov-Tenant': String(credentials.tenantId),
				'Revgov-Signature': signatureHeader(String(credentials.webhookSecret), timestamp, raw),
			},
		}).then((text: unknown) => (typeof text === 'string' ? JSON.parse(text) : text))) as IDataObject;
	} catch (error) {
		throw new NodeApiError(this.getNode(), error as never, { itemIndex: i });
	}
}
