'use strict';
// Hand-written default answers to incoming calls, per OCPP version, for both
// roles (action names never overlap between the two directions). They are
// realistic where a test is likely to look at the answer; every other action
// the schema defines gets schemas.minimal. selfcheck.js validates all
// of them against the bundled schemas.

const now = () => new Date().toISOString();

// state is shared by all connections of one peer process.
const state = {
    heartbeatInterval: 300,
    nextTransactionId: 1,
};

// Configuration a 1.6 charge point reports (GetConfiguration).
const CONFIG_16 = {
    HeartbeatInterval: () => String(state.heartbeatInterval),
    MeterValueSampleInterval: () => '60',
    NumberOfConnectors: () => '1',
};

// Variables a 2.x charging station reports (GetVariables), by "Component/Variable".
const VARIABLES_2 = {
    'OCPPCommCtrlr/HeartbeatInterval': () => String(state.heartbeatInterval),
    'SampledDataCtrlr/TxUpdatedInterval': () => '60',
    'DeviceDataCtrlr/ItemsPerMessage': () => '10',
};

const accepted = () => ({ status: 'Accepted' });
const empty = () => ({});

const V16 = {
    // answers of a central system
    BootNotification: () => ({ status: 'Accepted', currentTime: now(), interval: state.heartbeatInterval }),
    Heartbeat: () => ({ currentTime: now() }),
    StatusNotification: empty,
    Authorize: () => ({ idTagInfo: { status: 'Accepted' } }),
    StartTransaction: () => ({ transactionId: state.nextTransactionId++, idTagInfo: { status: 'Accepted' } }),
    StopTransaction: () => ({ idTagInfo: { status: 'Accepted' } }),
    MeterValues: empty,
    DataTransfer: accepted,
    // answers of a charge point
    Reset: accepted,
    ChangeAvailability: accepted,
    ChangeConfiguration: accepted,
    ClearCache: accepted,
    RemoteStartTransaction: accepted,
    RemoteStopTransaction: accepted,
    TriggerMessage: accepted,
    UnlockConnector: () => ({ status: 'Unlocked' }),
    GetLocalListVersion: () => ({ listVersion: 0 }),
    GetConfiguration: ({ key }) => {
        const keys = key?.length ? key : Object.keys(CONFIG_16);
        return {
            configurationKey: keys.filter(k => k in CONFIG_16).map(k => ({ key: k, readonly: false, value: CONFIG_16[k]() })),
            unknownKey: keys.filter(k => !(k in CONFIG_16)),
        };
    },
};

const V2 = {
    // answers of a CSMS
    BootNotification: () => ({ status: 'Accepted', currentTime: now(), interval: state.heartbeatInterval }),
    Heartbeat: () => ({ currentTime: now() }),
    StatusNotification: empty,
    Authorize: () => ({ idTokenInfo: { status: 'Accepted' } }),
    TransactionEvent: ({ idToken }) => (idToken ? { idTokenInfo: { status: 'Accepted' } } : {}),
    MeterValues: empty,
    NotifyReport: empty,
    NotifyEvent: empty,
    DataTransfer: accepted,
    // answers of a charging station
    Reset: accepted,
    ChangeAvailability: accepted,
    ClearCache: accepted,
    RequestStartTransaction: accepted,
    RequestStopTransaction: accepted,
    TriggerMessage: accepted,
    GetBaseReport: accepted,
    GetReport: accepted,
    UnlockConnector: () => ({ status: 'Unlocked' }),
    GetLocalListVersion: () => ({ versionNumber: 0 }),
    GetTransactionStatus: () => ({ messagesInQueue: false }),
    GetVariables: ({ getVariableData }) => ({
        getVariableResult: getVariableData.map(({ component, variable, attributeType }) => {
            const value = VARIABLES_2[`${component.name}/${variable.name}`];
            const result = { component, variable, attributeStatus: value ? 'Accepted' : 'UnknownVariable' };
            if (attributeType) result.attributeType = attributeType;
            if (value) result.attributeValue = value();
            return result;
        }),
    }),
    SetVariables: ({ setVariableData }) => ({
        setVariableResult: setVariableData.map(({ component, variable, attributeType }) => {
            const result = { component, variable, attributeStatus: 'Accepted' };
            if (attributeType) result.attributeType = attributeType;
            return result;
        }),
    }),
};

const TABLES = { 'ocpp1.6': V16, 'ocpp2.0.1': V2, 'ocpp2.1': V2 };

// defaultFor returns the hand-written answer function for action, if any.
function defaultFor(protocol, action) {
    return TABLES[protocol]?.[action];
}

module.exports = { state, defaultFor };
